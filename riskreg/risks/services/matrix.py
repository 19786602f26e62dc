"""The organisation's scoring settings: matrix labels, score bands, tolerance, review cadence.

Each change writes the next version; nothing is ever overwritten, so a score made on
version 2 is read with version 2's labels and bands after version 3 exists.
"""

from typing import Any

from django.db import transaction

from riskreg.audit.services import audit_append, diff
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.risks.models import LEVELS, Level, RiskMatrix

DEFAULTS: dict[str, Any] = {
    "likelihood_labels": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"],
    "impact_labels": ["Negligible", "Minor", "Moderate", "Major", "Severe"],
    # Products of 1..5 x 1..5: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical.
    "band_limits": {"low": 4, "medium": 9, "high": 16},
    "tolerance": Level.MEDIUM,
    # Worse risks are looked at more often; a year is the longest anything goes unreviewed.
    "review_days": {"low": 365, "medium": 180, "high": 90, "critical": 30},
}
SETTINGS = tuple(DEFAULTS)
MAX_REVIEW_DAYS = 730


def _labels(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) != 5:
        raise ValidationFailedError.for_field(name, "must list exactly five labels")
    labels = [str(v).strip() for v in value]
    if any(not label or len(label) > 40 for label in labels):
        raise ValidationFailedError.for_field(name, "each label must have 1 to 40 characters")
    if len(set(labels)) != 5:
        raise ValidationFailedError.for_field(name, "labels must differ from each other")
    return labels


def _band_limits(value: Any) -> dict[str, int]:
    names = ("low", "medium", "high")
    if not isinstance(value, dict) or set(value) != set(names):
        raise ValidationFailedError.for_field("band_limits", "must give low, medium and high")
    limits = [value[name] for name in names]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in limits):
        raise ValidationFailedError.for_field("band_limits", "limits must be whole numbers")
    if not 1 <= limits[0] < limits[1] < limits[2] < 25:
        raise ValidationFailedError.for_field(
            "band_limits", "must rise strictly: 1 <= low < medium < high < 25"
        )
    return dict(zip(names, limits, strict=True))


def _review_days(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or set(value) != set(LEVELS):
        raise ValidationFailedError.for_field("review_days", f"must give days for {LEVELS}")
    for level, days in value.items():
        if isinstance(days, bool) or not isinstance(days, int):
            raise ValidationFailedError.for_field("review_days", f"{level}: must be whole days")
        if not 1 <= days <= MAX_REVIEW_DAYS:
            raise ValidationFailedError.for_field(
                "review_days", f"{level}: must be 1 to {MAX_REVIEW_DAYS} days"
            )
    return {level: value[level] for level in LEVELS}


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check a complete set of settings; raise naming the first bad one."""
    if values.get("tolerance") not in LEVELS:
        raise ValidationFailedError.for_field("tolerance", f"must be one of {LEVELS}")
    return {
        "likelihood_labels": _labels("likelihood_labels", values.get("likelihood_labels")),
        "impact_labels": _labels("impact_labels", values.get("impact_labels")),
        "band_limits": _band_limits(values.get("band_limits")),
        "tolerance": values["tolerance"],
        "review_days": _review_days(values.get("review_days")),
    }


def _latest(organization_id: int) -> RiskMatrix | None:
    return RiskMatrix.objects.filter(organization_id=organization_id).order_by("-version").first()


def matrix_ensure(*, actor: Actor) -> RiskMatrix:
    """The organisation's current matrix, writing version 1 from the defaults if it has none."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("matrix_ensure must run inside the caller's transaction")
    current = _latest(actor.organization_id)
    if current is not None:
        return current
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    # Another writer may have made it while we waited for the lock.
    return _latest(actor.organization_id) or _write(actor, 1, DEFAULTS, None)


def _write(
    actor: Actor, version: int, values: dict[str, Any], before: dict[str, Any] | None
) -> RiskMatrix:
    matrix = RiskMatrix(
        organization_id=actor.organization_id, version=version, created_by=actor.label, **values
    )
    matrix.full_clean()
    matrix.save()
    audit_append(
        actor=actor,
        action="risk_matrix.update" if before else "risk_matrix.create",
        object_type="risk_matrix",
        object_id=version,
        changes=diff(before, values),
    )
    return matrix


@transaction.atomic
def matrix_update(*, actor: Actor, **changes: Any) -> RiskMatrix:
    """Write the next version with the given settings changed; unchanged settings carry over.

    Existing scores keep the version they were made on. Raises ValidationFailedError when
    a setting is malformed; an identical set of settings writes nothing.
    """
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    current = _latest(actor.organization_id)
    before = {name: getattr(current, name) for name in SETTINGS} if current else dict(DEFAULTS)
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ValidationFailedError.for_field(unknown[0], "is not a matrix setting")
    after = validate_settings(before | changes)
    if current is not None and after == before:
        return current
    version = current.version + 1 if current else 1
    return _write(actor, version, after, before if current else None)
