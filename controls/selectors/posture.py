"""Reading a posture: stored verdicts only, never a recomputation (docs/posture.md).

A fixed number of queries whatever the amount of evidence: the catalog, the verdict rows
of the system and the organisation, their overrides and the system's versions.
"""

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from controls.engine.status import Status
from controls.models import Finding, Override, Subcategory, Verdict, VerdictChange
from controls.services.verdicts import ORG_SCOPE, system_scope, version_scope
from riskreg.inventory.models import AISystem


def _catalog() -> list[Subcategory]:
    return list(Subcategory.objects.select_related("category__function").order_by("position"))


def _row(sub: Subcategory, found: Any, *, inherited: bool) -> dict[str, Any]:
    base = {
        "id": sub.id,
        "function": sub.category.function_id,
        "category": sub.category_id,
        "outcome": sub.outcome,
        "page": sub.page,
        "scope": sub.scope,
        "inherited": inherited,
    }
    if found is None:
        return base | {
            "status": Status.NOT_ASSESSED.value,
            "computed_status": Status.NOT_ASSESSED.value,
            "overridden": False,
            "override": None,
            "regression": False,
            "rationale": [],
            "evidence": [],
            "decided_at": None,
            "valid_until": None,
            "rules_version": None,
            "policy_version": None,
            "by_model_version": [],
        }
    return base | {
        "status": found.status,
        "computed_status": getattr(found, "computed_status", found.status),
        "overridden": bool(
            getattr(found, "override_id", None) or getattr(found, "overridden", False)
        ),
        "override": _override(getattr(found, "override", None)),
        "regression": found.regression,
        "rationale": found.rationale,
        "evidence": found.evidence,
        "decided_at": found.decided_at,
        "valid_until": found.valid_until,
        "rules_version": found.rules_version,
        "policy_version": found.policy_version,
        "by_model_version": [],
    }


def _override(override: Override | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {
        "id": str(override.uid),
        "kind": override.kind,
        "status": override.status,
        "justification": override.justification,
        "expires_at": override.expires_at,
        "by": override.actor_label,
        "created_at": override.created_at,
    }


def posture_get(*, system: AISystem, at: datetime | None = None) -> dict[str, Any]:
    """All 72 subcategories of a system as stored, or as they stood at `at`."""
    versions = list(system.model_versions.order_by("created_at", "pk"))
    labels = {version_scope(v.pk): v.version for v in versions}
    scopes = [ORG_SCOPE, system_scope(system.pk), *labels]
    rows = _current(system, scopes) if at is None else _replayed(system, scopes, at)
    catalog = _catalog()
    by_version: dict[str, list[dict[str, str]]] = defaultdict(list)
    for (scope, sub_id), found in sorted(rows.items()):
        if scope in labels:
            by_version[sub_id].append({"version": labels[scope], "status": found.status})
    subcategories = []
    for sub in catalog:
        scope = ORG_SCOPE if sub.scope == "organisation" else system_scope(system.pk)
        row = _row(sub, rows.get((scope, sub.id)), inherited=scope == ORG_SCOPE)
        row["by_model_version"] = by_version.get(sub.id, [])
        subcategories.append(row)
    decided = [r["decided_at"] for r in subcategories if r["decided_at"]]
    return {
        "system": system.slug,
        "at": at,
        "decided_at": max(decided) if decided else None,
        "model_versions": [
            {"version": v.version, "status": v.status}
            for v in versions
            if version_scope(v.pk) in {s for s, _ in rows}
        ],
        "coverage": coverage(subcategories),
        "subcategories": subcategories,
    }


def _current(system: AISystem, scopes: list[str]) -> dict[tuple[str, str], Any]:
    rows = Verdict.objects.filter(organization_id=system.organization_id, scope__in=scopes)
    return {(v.scope, v.subcategory_id): v for v in rows.select_related("override")}


def _replayed(system: AISystem, scopes: list[str], at: datetime) -> dict[tuple[str, str], Any]:
    """The newest history row of each verdict at `at`."""
    rows = VerdictChange.objects.filter(
        organization_id=system.organization_id, scope__in=scopes[:2], decided_at__lte=at
    ).order_by("decided_at", "pk")
    return {(c.scope, c.subcategory_id): c for c in rows}


def coverage(subcategories: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of statuses per function and per category; assessed excludes not assessed."""
    out: dict[str, Any] = {}
    for level in ("function", "category"):
        groups: dict[str, Counter[str]] = defaultdict(Counter)
        for row in subcategories:
            groups[row[level]][row["status"]] += 1
        out[level] = {
            name: {
                "total": sum(counts.values()),
                "assessed": sum(counts.values()) - counts[Status.NOT_ASSESSED.value],
                "statuses": dict(counts),
            }
            for name, counts in groups.items()
        }
    return out


def posture_changes(
    *, system: AISystem, since: datetime | None, until: datetime | None, limit: int = 1000
) -> QuerySet[VerdictChange]:
    """Changes of the system's and the organisation's verdicts in a period, oldest first."""
    rows = VerdictChange.objects.filter(
        organization_id=system.organization_id,
        scope__in=[ORG_SCOPE, system_scope(system.pk)],
    )
    if since is not None:
        rows = rows.filter(decided_at__gte=since)
    if until is not None:
        rows = rows.filter(decided_at__lt=until)
    return rows.order_by("decided_at", "pk")[:limit]


def finding_list(*, system: AISystem) -> QuerySet[Finding]:
    return (
        Finding.objects.filter(organization_id=system.organization_id, system=system)
        .select_related("risk", "model_version")
        .order_by("-created_at", "-pk")
    )


def oscal_inputs(*, system: AISystem) -> dict[str, Any]:
    """What the OSCAL export needs: the posture, the evidence it cites, the system's risks."""
    from evaluations.selectors.evidence import evidence_list
    from riskreg.organisations.actor import Actor
    from riskreg.risks.selectors.register import risk_scope

    posture = posture_get(system=system)
    cited = sorted({uid for row in posture["subcategories"] for uid in row["evidence"]})
    actor = Actor.system(system.organization_id)
    items = evidence_list(actor=actor).filter(uid__in=cited).order_by("id")
    evidence = [
        {
            "uid": str(item.uid),
            "kind": item.kind,
            "effective_date": item.effective_date.isoformat(),
            "document_sha256": item.document_sha256,
            "attachments": [
                {"name": a.name, "sha256": a.blob.sha256} for a in item.attachments.all()
            ],
            "title": f"{item.kind} evidence of {system.slug}",
        }
        for item in items
    ]
    risks = [
        {
            "reference": r.reference,
            "title": r.title,
            "statement": r.statement,
            "status": r.status,
            "level": r.level,
        }
        for r in risk_scope(actor=actor).filter(systems=system).order_by("number")
    ]
    return {"posture": posture, "evidence": evidence, "risks": risks}
