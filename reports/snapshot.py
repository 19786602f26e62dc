"""The snapshot of a report: everything it will show, read once, as JSON.

Built through the other apps' selectors when a report is requested and never again: the
draft and the signed final are rendered from it (reports/snapshot_schema.json describes
it; the renderer reads nothing else).
"""

from datetime import date, datetime
from typing import Any

from django.utils import timezone

import riskreg
from controls.selectors.posture import posture_changes, posture_get
from evaluations.selectors.evidence import evidence_list, evidence_state
from evaluations.selectors.incidents import incident_list
from riskreg.audit.selectors import audit_event_latest, audit_head
from riskreg.inventory.models import AISystem
from riskreg.inventory.selectors import dataset_list
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.risks.selectors.register import risk_list
from riskreg.risks.selectors.workflow import matrix_current

AUDIT_EXCERPT = 50


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _score(score: Any) -> dict[str, Any] | None:
    if score is None:
        return None
    return {
        "likelihood": score.likelihood,
        "impact": score.impact,
        "score": score.score,
        "level": score.level,
    }


def _risk(risk: Any) -> dict[str, Any]:
    acceptance = next((a for a in risk.acceptances.all() if a.ended_at is None), None)
    return {
        "reference": risk.reference,
        "title": risk.title,
        "statement": risk.statement,
        "category": risk.category,
        "status": risk.status,
        "level": risk.level or None,
        "owner": risk.owner.user.get_username() if risk.owner else None,
        "systems": [s.slug for s in risk.systems.all()],
        "subcategories": [s.id for s in risk.subcategories.all()],
        "inherent": _score(risk.inherent_score),
        "residual": _score(risk.residual_score),
        "treatment_decision": risk.treatment_decision,
        "treatment_plan": risk.treatment_plan,
        "acceptance": {
            "by": acceptance.accepted_by_label,
            "valid_until": acceptance.valid_until.isoformat(),
            "justification": acceptance.justification,
        }
        if acceptance
        else None,
    }


def _heatmaps(risks: list[dict[str, Any]]) -> dict[str, list[list[int]]]:
    """Counts of live risks by likelihood (row 1..5) and impact (column 1..5)."""
    maps = {kind: [[0] * 5 for _ in range(5)] for kind in ("inherent", "residual")}
    for risk in risks:
        if risk["status"] in ("dismissed", "closed"):
            continue
        for kind, grid in maps.items():
            if (score := risk[kind]) is not None:
                grid[score["likelihood"] - 1][score["impact"] - 1] += 1
    return maps


def _evidence(actor: Actor, system: AISystem | None, period: tuple[Any, Any]) -> list[Any]:
    rows = evidence_list(actor=actor, effective_from=period[0], effective_to=period[1])
    if system is not None:
        rows = rows.filter(system=system) | rows.filter(system__isnull=True)
    return list(rows.exclude(withdrawal__isnull=False).order_by("effective_date", "id"))


def _evidence_row(item: Any) -> dict[str, Any]:
    return {
        "uid": str(item.uid),
        "kind": item.kind,
        "context": item.context,
        "system": item.system.slug if item.system else None,
        "model_version": item.model_version.version if item.model_version else None,
        "effective_date": item.effective_date.isoformat(),
        "expiry_date": _iso(item.expiry_date),
        "submitter": item.submitter_label,
        "sha256": item.document_sha256,
        "state": evidence_state(item),
        "attachments": [{"name": a.name, "sha256": a.blob.sha256} for a in item.attachments.all()],
        "document": item.document,
    }


def _incidents(actor: Actor, system: AISystem | None) -> list[dict[str, Any]]:
    rows = incident_list(actor=actor, system=system.slug if system else None)
    return [
        {
            "reference": i.reference,
            "title": i.title,
            "severity": i.severity,
            "status": i.status,
            "occurred_at": i.occurred_at.isoformat(),
            "detected_at": i.detected_at.isoformat(),
            "root_cause": i.root_cause,
            "corrective_actions": i.corrective_actions,
            "regulator_deadline": _iso(i.regulator_deadline),
            "timeline": [
                {"at": e.created_at.isoformat(), "kind": e.kind, "text": e.text}
                for e in sorted(i.timeline.all(), key=lambda e: (e.created_at, e.pk))
            ],
        }
        for i in rows.prefetch_related("timeline").order_by("number")
    ]


def _system(system: AISystem) -> dict[str, Any]:
    versions = system.model_versions.select_related("parent").prefetch_related("training_datasets")
    return {
        "slug": system.slug,
        "name": system.name,
        "description": system.description,
        "intended_purpose": system.intended_purpose,
        "owner": system.owner.user.get_username() if system.owner else None,
        "risk_tier": system.risk_tier,
        "lifecycle_stage": system.lifecycle_stage,
        "deployment_context": system.deployment_context,
        "is_generative": system.is_generative,
        "business_unit": system.business_unit,
        "supplier": system.supplier,
        "base_model": system.base_model,
        "model_versions": [
            {
                "version": v.version,
                "status": v.status,
                "parent": v.parent.version if v.parent else None,
                "framework": v.framework,
                "artifact_sha256": v.artifact_sha256,
                "training_datasets": [d.slug for d in v.training_datasets.all()],
                "created_at": v.created_at.isoformat(),
            }
            for v in versions.order_by("created_at", "pk")
        ],
    }


def _posture(system: AISystem) -> dict[str, Any]:
    posture = posture_get(system=system)
    keep = ("rule", "status", "metric", "value", "threshold", "note", "model_version")
    return {
        "subcategories": [
            {
                "id": row["id"],
                "function": row["function"],
                "category": row["category"],
                "outcome": row["outcome"],
                "page": row["page"],
                "status": row["status"],
                "overridden": row["overridden"],
                "regression": row["regression"],
                "evidence": row["evidence"],
                "rationale": [{k: c.get(k) for k in keep} for c in row["rationale"]],
            }
            for row in posture["subcategories"]
        ],
        "coverage": {"function": posture["coverage"]["function"]},
    }


def _datasets(actor: Actor, system: AISystem | None, evidence: list[Any]) -> list[dict[str, Any]]:
    slugs = {d["slug"] for e in evidence for d in e.document.get("datasets") or ()}
    if system is not None:
        slugs |= {
            d.slug
            for v in system.model_versions.prefetch_related("training_datasets")
            for d in v.training_datasets.all()
        }
    rows = dataset_list(actor=actor)
    rows = rows if system is None else rows.filter(slug__in=slugs)
    return [
        {
            "slug": d.slug,
            "name": d.name,
            "version": d.version,
            "source": d.source,
            "licence": d.licence,
            "collection_start": _iso(d.collection_start),
            "collection_end": _iso(d.collection_end),
            "contains_personal_data": d.contains_personal_data,
            "intended_use": d.intended_use,
            "known_limitations": d.known_limitations,
        }
        for d in rows.order_by("slug")
    ]


def _regressions(system: AISystem, since: datetime | None) -> list[dict[str, Any]]:
    changes = posture_changes(system=system, since=since, until=None, limit=10_000)
    return [
        {
            "subcategory": c.subcategory_id,
            "model_version": next(
                (r.get("model_version") for r in c.rationale if r.get("regression")), None
            ),
            "note": next((r["note"] for r in c.rationale if r.get("regression")), ""),
        }
        for c in changes
        if c.regression and not c.previous_regression
    ]


def _audit(organization_id: int) -> dict[str, Any]:
    events = list(audit_event_latest(organization_id=organization_id)[:AUDIT_EXCERPT])
    return {
        "head": audit_head(organization_id=organization_id)["hash"],
        "excerpt": [
            {
                "sequence": e.seq,
                "at": e.created_at.isoformat(),
                "actor": e.actor_label,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
            }
            for e in reversed(events)
        ],
    }


def snapshot_build(
    *,
    report_id: str,
    organization: Organization,
    kind: str,
    system: AISystem | None,
    period: tuple[date | None, date | None],
    requested_by: str,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything a report of `kind` shows, as JSON values (see snapshot_schema.json)."""
    actor = Actor.system(organization.pk)
    evidence = _evidence(actor, system, period)
    risks = [_risk(r) for r in _risks(actor, system)]
    matrix = matrix_current(organization_id=organization.pk)
    since = datetime.fromisoformat(previous["generated_at"]) if previous else None
    title = {
        "system": "AI system compliance report",
        "register": "AI risk register report",
        "annex-iv": "Technical documentation (EU AI Act Annex IV)",
    }[kind]
    return {
        "report": {
            "id": report_id,
            "kind": kind,
            "title": title,
            "period": {"from": _iso(period[0]), "to": _iso(period[1])},
            "generated_at": timezone.now().replace(microsecond=0).isoformat(),
            "generator_version": riskreg.__version__,
            "organisation": {"name": organization.name, "slug": organization.slug},
            "requested_by": requested_by,
            "previous_report": previous,
        },
        "system": _system(system) if system else None,
        "posture": _posture(system) if system else None,
        "matrix": {
            "version": matrix.version,
            "likelihood_labels": list(matrix.likelihood_labels),
            "impact_labels": list(matrix.impact_labels),
            "band_limits": dict(matrix.band_limits),
            "tolerance": matrix.tolerance,
        },
        "heatmaps": _heatmaps(risks),
        "risks": risks,
        "evidence": [_evidence_row(e) for e in evidence],
        "datasets": _datasets(actor, system, evidence),
        "incidents": _incidents(actor, system),
        "regressions": _regressions(system, since) if system else [],
        "audit": _audit(organization.pk),
    }


def _risks(actor: Actor, system: AISystem | None) -> list[Any]:
    rows = risk_list(actor=actor, system=system.slug if system else None)
    return list(rows.prefetch_related("acceptances", "subcategories", "systems").order_by("number"))
