"""Findings: not-met verdicts and regressions, each proposing a risk or joining one.

A finding arises only when a system's verdict changes (into not met, or into a
regression), so a verdict that stays the same raises nothing new however often evidence
arrives, and a dismissed proposal is not proposed again until the verdict changes.
"""

from typing import Any

from controls.engine.drift import REGRESSION_SUBCATEGORIES
from controls.engine.status import Status
from controls.models import Finding, VerdictChange
from riskreg.inventory.models import AISystem
from riskreg.organisations.actor import Actor
from riskreg.risks.models import RiskStatus
from riskreg.risks.selectors.register import risk_scope
from riskreg.risks.services.register import risk_create

# The risk category a finding's risk gets, from the characteristic its subcategory evaluates.
CATEGORIES = {
    "MEASURE 2.6": "safety",
    "MEASURE 2.7": "security_resilience",
    "MEASURE 2.8": "accountability_transparency",
    "MEASURE 2.9": "explainability",
    "MEASURE 2.10": "privacy",
    "MEASURE 2.11": "fairness",
    "MEASURE 2.12": "environmental",
}
CLOSED = (RiskStatus.CLOSED, RiskStatus.DISMISSED)


def _only_regressions(change: VerdictChange) -> bool:
    failing = [c for c in change.rationale if c["status"] == Status.NOT_MET]
    return bool(failing) and all(c.get("regression") for c in failing)


def findings_raise(*, organization_id: int, changes: list[VerdictChange]) -> list[Finding]:
    """Record the findings among a refresh's changes to system verdicts."""
    changes = [c for c in changes if c.scope.startswith("sys:")]
    found: list[Finding] = []
    # One risk per cause: the subcategories that one failing rule (or one regression) sends
    # to not met together share the risk, each with its own finding.
    groups: dict[tuple[Any, ...], list[VerdictChange]] = {}
    for change in changes:
        if change.regression and not change.previous_regression:
            groups.setdefault((change.system_id, "regression"), []).append(change)
        elif (
            change.status == Status.NOT_MET
            and change.previous != Status.NOT_MET
            and not _only_regressions(change)
        ):
            rules = frozenset(c["rule"] for c in _failing(change))
            groups.setdefault((change.system_id, rules), []).append(change)
    for (_, cause), group in groups.items():
        kind = Finding.Kind.REGRESSION if cause == "regression" else Finding.Kind.NOT_MET
        first = REGRESSION_SUBCATEGORIES[0]
        ordered = sorted(group, key=lambda c: c.subcategory_id != first)
        risk = None
        for change in ordered:
            finding = _finding(organization_id, kind, change, group, risk)
            risk = finding.risk
            found.append(finding)
    return found


def _failing(change: VerdictChange) -> list[dict[str, Any]]:
    return [c for c in change.rationale if c["status"] == Status.NOT_MET]


def _finding(
    organization_id: int,
    kind: str,
    lead: VerdictChange,
    group: list[VerdictChange],
    risk: Any = None,
) -> Finding:
    """A finding on lead's subcategory, joined to `risk`, to an open risk of the same system
    and subcategories, or to a newly proposed one."""
    failing = _failing(lead)
    evidence = sorted({uid for c in failing for uid in c["evidence"]})
    subcategories = sorted({c.subcategory_id for c in group})
    system = AISystem.objects.select_related("owner__user").get(pk=lead.system_id or 0)
    first = failing[0] if failing else {}
    what = "Regression" if kind == Finding.Kind.REGRESSION else "Not met"
    summary = f"{what}: {lead.subcategory_id} of {system.name}"
    if first.get("metric"):
        summary += f" ({first['metric']} = {first.get('value')})"
    finding = Finding.objects.create(
        organization_id=organization_id,
        kind=kind,
        system=system,
        subcategory_id=lead.subcategory_id,
        change=lead,
        summary=summary[:500],
        details=failing,
        evidence=evidence,
    )
    version = next((c.get("model_version") for c in failing if c.get("model_version")), None)
    if version:
        finding.model_version = system.model_versions.filter(version=version).first()
    open_risk = risk or (
        risk_scope(actor=Actor.system(organization_id))
        .filter(systems=system, subcategories__in=subcategories)
        .exclude(status__in=CLOSED)
        .order_by("number")
        .first()
    )
    if open_risk is None:
        open_risk = risk_create(
            actor=Actor.system(organization_id),
            title=summary[:200],
            statement=_statement(kind, lead, failing),
            category=CATEGORIES.get(lead.subcategory_id, "validity_reliability"),
            source="finding",
            owner=system.owner.user.get_username() if system.owner else None,
            systems=[system.slug],
            model_versions=[{"system": system.slug, "version": version}] if version else [],
            subcategories=subcategories,
        )
        finding.proposed = True
    finding.risk = open_risk
    finding.save(update_fields=["risk", "proposed", "model_version"])
    return finding


def _statement(kind: str, lead: VerdictChange, failing: list[dict[str, Any]]) -> str:
    lines = [
        f"riskreg found {lead.subcategory_id} "
        + ("regressed" if kind == Finding.Kind.REGRESSION else "not met")
        + " from the evidence:"
    ]
    for c in failing[:10]:
        detail = (
            c.get("note")
            or f"{c.get('metric')} = {c.get('value')} (threshold {c.get('threshold')})"
        )
        lines.append(f"- {c['rule']}: {detail} [evidence {', '.join(c['evidence'])}]")
    return "\n".join(lines)[:10000]
