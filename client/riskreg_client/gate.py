"""Release gates on the verdict: which subcategories a submission bears on, and whether
any of them has a status (or a regression) the caller said to fail on.

A submission bears on the subcategories its verdict update reports as changed, and on
those whose current verdict cites one of its items: re-submitting the numbers of a model
that already regressed changes no verdict, and must still fail the gate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

FAIL_ON_CHOICES = ("not-met", "inconclusive", "partially-met", "not-assessed", "regression")
# Worst first: a subcategory several contributions cite shows the worst of them.
_ORDER = ("not_met", "inconclusive", "partially_met", "not_assessed", "met", "not_applicable")


@dataclass(frozen=True)
class Outcome:
    """One subcategory the submission bears on."""

    system: str | None
    subcategory: str
    status: str
    previous: str | None
    regression: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "subcategory": self.subcategory,
            "status": self.status,
            "previous": self.previous,
            "regression": self.regression,
        }


def parse_fail_on(text: str) -> frozenset[str]:
    """``not-met,regression`` → the set of conditions; ValueError naming an unknown one."""
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(FAIL_ON_CHOICES))
    if unknown:
        raise ValueError(
            f"--fail-on: unknown {', '.join(unknown)} (choose from {', '.join(FAIL_ON_CHOICES)})"
        )
    return frozenset(wanted)


def outcomes(
    affected: Iterable[Mapping[str, Any]],
    posture: Mapping[str, Any] | None,
    *,
    items: Sequence[str],
    model_version: str | None,
) -> list[Outcome]:
    """The update's changed verdicts, plus every verdict in ``posture`` whose rationale cites
    one of ``items`` (evidence ids) in a contribution of the submission's model version; for
    those, the status of that version when it has one."""
    found: dict[tuple[str | None, str], Outcome] = {}
    for entry in affected:
        key = (entry.get("system"), str(entry["subcategory"]))
        found[key] = Outcome(
            system=entry.get("system"),
            subcategory=str(entry["subcategory"]),
            status=str(entry["status"]),
            previous=entry.get("previous"),
            regression=bool(entry.get("regression")),
        )
    if posture is None:
        return sorted(found.values(), key=_order)
    system = posture.get("system") if isinstance(posture.get("system"), str) else None
    cited = set(items)
    for verdict in posture.get("subcategories", []):
        mine = [
            c
            for c in verdict.get("rationale", [])
            if cited & set(c.get("evidence", [])) and _same_version(c, model_version)
        ]
        if not mine:
            continue
        key = (system, str(verdict["id"]))
        status = _version_status(verdict, model_version) or _worst(c["status"] for c in mine)
        earlier = found.get(key)
        found[key] = Outcome(
            system=system,
            subcategory=str(verdict["id"]),
            status=status,
            previous=earlier.previous if earlier else None,
            regression=any(c.get("regression") for c in mine)
            or bool(earlier and earlier.regression),
        )
    return sorted(found.values(), key=_order)


def _order(outcome: Outcome) -> tuple[str, str, tuple[int, ...]]:
    """Catalog order: GOVERN 1.2 before GOVERN 1.10."""
    function, _, number = outcome.subcategory.partition(" ")
    parts = tuple(int(p) for p in number.split(".") if p.isdigit())
    return (outcome.system or "", function, parts)


def failing(found: Iterable[Outcome], fail_on: frozenset[str]) -> list[Outcome]:
    """The outcomes that trip the gate."""
    statuses = {c.replace("-", "_") for c in fail_on if c != "regression"}
    return [o for o in found if o.status in statuses or ("regression" in fail_on and o.regression)]


def markdown(found: Sequence[Outcome], tripped: Sequence[Outcome], *, title: str) -> str:
    """A GitHub step summary: a headline and one table row per subcategory."""
    head = "❌ gate failed" if tripped else "✅ gate passed"
    lines = [f"### riskreg: {title} — {head}", ""]
    if not found:
        lines.append("No verdict changed and no verdict cites the submitted evidence.")
        return "\n".join(lines) + "\n"
    lines += ["| subcategory | status | previous | regression | gate |", "|---|---|---|---|---|"]
    for o in found:
        mark = "fail" if o in tripped else "pass"
        lines.append(
            f"| {o.subcategory} | {o.status} | {o.previous or '—'} | "
            f"{'yes' if o.regression else 'no'} | {mark} |"
        )
    return "\n".join(lines) + "\n"


def junit(found: Sequence[Outcome], tripped: Sequence[Outcome], *, title: str) -> bytes:
    """JUnit XML: one test case per subcategory, failed when it trips the gate."""
    suite = ElementTree.Element(
        "testsuite",
        name=f"riskreg {title}",
        tests=str(len(found)),
        failures=str(len(tripped)),
        errors="0",
    )
    for o in found:
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"riskreg.{o.system or 'organisation'}", name=o.subcategory
        )
        if o in tripped:
            why = "regression" if o.regression else o.status
            failure = ElementTree.SubElement(case, "failure", message=f"{o.subcategory}: {why}")
            failure.text = f"status {o.status} (previous {o.previous}), regression {o.regression}"
    written: bytes = ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
    return written


def _same_version(contribution: Mapping[str, Any], version: str | None) -> bool:
    """A contribution of another version citing the item (a child's regression compares
    against its parent's items) is that version's outcome, not the submission's."""
    theirs = contribution.get("model_version")
    return version is None or theirs is None or theirs == version


def _version_status(verdict: Mapping[str, Any], version: str | None) -> str | None:
    for entry in verdict.get("by_model_version") or []:
        if version is not None and entry.get("version") == version:
            return str(entry["status"])
    return None


def _worst(statuses: Iterable[str]) -> str:
    ranked = sorted(statuses, key=lambda s: _ORDER.index(s) if s in _ORDER else len(_ORDER))
    return ranked[0] if ranked else "not_assessed"
