"""Reads for export: the register and the treatment plan as rows of their sheets."""

from datetime import UTC
from typing import Any

from django.utils import timezone

from riskreg.organisations.actor import Actor
from riskreg.risks.exchange.columns import Cell
from riskreg.risks.models import Risk, RiskScore, ScoreKind
from riskreg.risks.selectors.register import risk_list
from riskreg.risks.selectors.workflow import action_list


def _score_cells(kind: str, score: RiskScore | None) -> dict[str, Cell]:
    return {
        f"{kind}_likelihood": score.likelihood if score else None,
        f"{kind}_impact": score.impact if score else None,
        f"{kind}_score": score.score if score else None,
    }


def _register_row(risk: Risk) -> dict[str, Cell]:
    row: dict[str, Cell] = {
        "reference": risk.reference,
        "title": risk.title,
        "statement": risk.statement,
        "category": risk.category,
        "status": risk.status,
        "owner": risk.owner.user.username if risk.owner else "",
        "systems": ", ".join(s.slug for s in risk.systems.all()),
        "level": risk.level,
        "treatment_decision": risk.treatment_decision,
        "next_review_date": risk.next_review_date,
        "updated_at": risk.updated_at.astimezone(UTC).isoformat(timespec="seconds"),
    }
    for kind in ScoreKind.values:
        row |= _score_cells(kind, getattr(risk, f"{kind}_score"))
    return row


def register_export_rows(*, actor: Actor, **filters: Any) -> list[dict[str, Cell]]:
    """The register as rows of the register sheet, by reference, filtered as risk_list
    filters (status, system, owner, category, level, overdue)."""
    return [_register_row(risk) for risk in risk_list(actor=actor, **filters)]


def treatment_plan_export_rows(*, actor: Actor, **filters: Any) -> list[dict[str, Cell]]:
    """The actions of the risks that risk_list finds with the same filters, as rows of the
    treatment-plan sheet, by risk and action number."""
    today = timezone.localdate()
    risks = risk_list(actor=actor, **filters).values("pk")
    actions = action_list(actor=actor).filter(risk__in=risks).order_by("risk__number", "number")
    return [
        {
            "risk": action.risk.reference,
            "action": f"A{action.number}",
            "title": action.title,
            "owner": action.owner.user.username if action.owner else "",
            "due_date": action.due_date,
            "status": action.status,
            "overdue": "yes" if action.is_overdue(today) else "no",
        }
        for action in actions
    ]
