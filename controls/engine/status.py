"""Verdict statuses and their order (docs/posture.md, "Statuses")."""

from enum import StrEnum


class Status(StrEnum):
    NOT_MET = "not_met"
    INCONCLUSIVE = "inconclusive"
    PARTIALLY_MET = "partially_met"
    MET = "met"
    NOT_ASSESSED = "not_assessed"
    NOT_APPLICABLE = "not_applicable"


# Worst first. not_assessed means no evidence applied, so any assessed status outranks it;
# not_applicable comes only from an officer's decision and never from a rule.
ORDER = (
    Status.NOT_MET,
    Status.INCONCLUSIVE,
    Status.PARTIALLY_MET,
    Status.MET,
    Status.NOT_ASSESSED,
    Status.NOT_APPLICABLE,
)
_RANK = {status: rank for rank, status in enumerate(ORDER)}


def rank(status: str) -> int:
    """Position in ORDER: lower is worse."""
    return _RANK[Status(status)]


def worst(statuses: list[str] | tuple[str, ...]) -> Status:
    """The worst of `statuses`; not_assessed when there are none."""
    if not statuses:
        return Status.NOT_ASSESSED
    return Status(min(statuses, key=rank))
