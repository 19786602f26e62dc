"""Import of the register and the treatment plan (docs/risk-exchange.md).

Every row is checked before anything is written; only if none fails are all of them
written, in one transaction, through the register's own services, so each change is
audited as if made by hand. An error in the write phase (a rule only a service knows)
rolls the whole import back and names its row.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from riskreg.organisations.actor import Actor
from riskreg.risks.exchange.columns import REGISTER, TREATMENT_PLAN, Cell
from riskreg.risks.models import (
    ActionStatus,
    Risk,
    RiskCategory,
    RiskStatus,
    ScoreKind,
    TreatmentAction,
    TreatmentDecision,
)
from riskreg.risks.services.exchange_rows import Counts, Lookups, Row, check_rows, write_rows
from riskreg.risks.services.register import risk_create, risk_update
from riskreg.risks.services.scoring import risk_score
from riskreg.risks.services.treatment import (
    risk_treatment_set,
    treatment_action_create,
    treatment_action_update,
)

MAX_SYSTEMS = 200
SCORE_RATIONALE = "Imported from a register sheet."

__all__ = ["Counts", "register_import", "treatment_plan_import"]


# --- the register ------------------------------------------------------------------


@dataclass
class RiskChange:
    row: int
    risk: Risk | None  # None: a new risk
    fields: dict[str, Any]  # risk_create's arguments, or risk_update's that differ
    scores: list[tuple[str, int, int]] = field(default_factory=list)
    decision: str | None = None  # None: unchanged


def _existing_risk(
    lookups: Lookups, row: Row, seen: dict[int, int] | None, name: str
) -> Risk | None:
    """The risk a reference names, and at most once if seen is given; else a row error."""
    risk = row.check(name, lambda: lookups.risk(row.text(name)))
    if risk is not None and seen is not None:
        if risk.pk in seen:
            row.fail(name, f"{risk.reference} is also in row {seen[risk.pk]}")
        seen.setdefault(risk.pk, row.number)
    return risk


def _risk_fields(lookups: Lookups, row: Row, risk: Risk | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("title", "statement", "category"):
        if row.has(name) and (risk is None or getattr(risk, name) != row.text(name)):
            fields[name] = row.text(name)
        elif risk is None and name not in row.bad and not row.has(name):
            row.fail(name, "is required for a new risk")
    if "category" in fields and fields["category"] not in RiskCategory.values:
        row.fail("category", f"must be one of {', '.join(RiskCategory.values)}")
    current = risk.owner.user.username if risk is not None and risk.owner else ""
    return fields | row.owner_change(lookups, current) | _systems(lookups, row, risk)


def _systems(lookups: Lookups, row: Row, risk: Risk | None) -> dict[str, Any]:
    if not row.has("systems"):
        return {}
    slugs = list(dict.fromkeys(s.strip() for s in row.text("systems").split(",") if s.strip()))
    current = [s.slug for s in risk.systems.all()] if risk is not None else []
    if sorted(slugs) == sorted(current):
        return {}
    problem = (
        f"names {len(slugs)} AI systems; at most {MAX_SYSTEMS}"
        if len(slugs) > MAX_SYSTEMS
        else lookups.systems_problem(slugs)
    )
    if problem:
        row.fail("systems", problem)
        return {}
    return {"systems": slugs}


def _scores(row: Row, risk: Risk | None) -> list[tuple[str, int, int]]:
    """The (kind, likelihood, impact) pairs that differ from the risk's latest scores."""
    found = []
    for kind in ScoreKind.values:
        names = (f"{kind}_likelihood", f"{kind}_impact")
        likelihood, impact = (row.number_in(n) for n in names)
        if row.bad & set(names) or (likelihood is None and impact is None):
            continue
        if likelihood is None or impact is None:
            missing = names[0] if likelihood is None else names[1]
            row.fail(missing, f"give both {kind} likelihood and impact, or neither")
            continue
        out = [n for n, v in zip(names, (likelihood, impact), strict=True) if not 1 <= v <= 5]
        for name in out:
            row.fail(name, "must be a whole number from 1 to 5")
        latest = getattr(risk, f"{kind}_score") if risk is not None else None
        if not out and (
            latest is None or (latest.likelihood, latest.impact) != (likelihood, impact)
        ):
            found.append((kind, likelihood, impact))
    return found


def _decision(row: Row, risk: Risk | None) -> str | None:
    decision = row.text("treatment_decision")
    if not row.has("treatment_decision"):
        return None
    if decision not in ["", *TreatmentDecision.values]:
        row.fail(
            "treatment_decision", f"must be blank or one of {', '.join(TreatmentDecision.values)}"
        )
        return None
    return decision if decision != (risk.treatment_decision if risk else "") else None


def _check_risk(lookups: Lookups, row: Row, seen: dict[int, int]) -> RiskChange | None:
    if "reference" in row.bad:
        return None
    risk = _existing_risk(lookups, row, seen, "reference") if row.text("reference") else None
    if risk is None and row.text("reference"):
        return None
    status = row.text("status")
    current = risk.status if risk is not None else RiskStatus.PROPOSED
    if status and status != current:
        row.fail(
            "status",
            f"an import never changes a risk's status: leave it blank or {current!r} "
            "(statuses move through the risk's workflow)",
        )
    fields = _risk_fields(lookups, row, risk)
    return RiskChange(row.number, risk, fields, _scores(row, risk), _decision(row, risk))


def _write_risk(actor: Actor, change: RiskChange) -> str:
    risk = change.risk
    if risk is None:
        risk = risk_create(actor=actor, **change.fields)
    elif change.fields:
        risk_update(actor=actor, risk=risk, **change.fields)
    for kind, likelihood, impact in change.scores:
        risk_score(
            actor=actor,
            risk=risk,
            kind=kind,
            likelihood=likelihood,
            impact=impact,
            rationale=SCORE_RATIONALE,
        )
    if change.decision is not None:
        risk_treatment_set(actor=actor, risk=risk, decision=change.decision)
    if change.risk is None:
        return "created"
    return (
        "updated" if change.fields or change.scores or change.decision is not None else "unchanged"
    )


@transaction.atomic
def register_import(*, actor: Actor, rows: list[list[Cell]]) -> Counts:
    """Check every row of a register sheet, then create or update the risk of each, all or
    none; a row with a reference updates that risk, one without creates a proposed risk."""
    seen: dict[int, int] = {}
    changes = check_rows(actor, REGISTER, rows, lambda row, found: _check_risk(found, row, seen))
    return write_rows(REGISTER, changes, lambda change: _write_risk(actor, change))


# --- the treatment plan ------------------------------------------------------------


@dataclass
class ActionChange:
    row: int
    risk: Risk
    action: TreatmentAction | None  # None: a new action
    fields: dict[str, Any]  # treatment_action_create's arguments, or the update's


def _action_fields(row: Row, action: TreatmentAction | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("title", "due_date"):
        if row.has(name) and (action is None or getattr(action, name) != row.values[name]):
            fields[name] = row.values[name]
        elif action is None and name not in row.bad and not row.has(name):
            row.fail(name, "is required for a new action")
    status = row.text("status")  # blank: planned for a new action, unchanged otherwise
    if status and status not in ActionStatus.values:
        row.fail("status", f"must be blank or one of {', '.join(ActionStatus.values)}")
    elif status and (action is None or action.status != status):
        fields["status"] = status
    return fields


def _check_action(lookups: Lookups, row: Row, seen: dict[int, int]) -> ActionChange | None:
    if row.bad & {"risk", "action"}:
        return None
    risk = _existing_risk(lookups, row, None, "risk")
    number = row.text("action")
    if risk is None:
        return None
    action = None
    if number:
        action = row.check("action", lambda: lookups.action(risk, number))
        if action is None:
            return None
        if action.pk in seen:
            row.fail("action", f"{risk.reference} {number} is also in row {seen[action.pk]}")
        seen.setdefault(action.pk, row.number)
    current = action.owner.user.username if action is not None and action.owner else ""
    fields = _action_fields(row, action) | row.owner_change(lookups, current)
    return ActionChange(row.number, risk, action, fields)


def _write_action(actor: Actor, change: ActionChange) -> str:
    if change.action is None:
        treatment_action_create(actor=actor, risk=change.risk, **change.fields)
        return "created"
    if not change.fields:
        return "unchanged"
    treatment_action_update(actor=actor, action=change.action, **change.fields)
    return "updated"


@transaction.atomic
def treatment_plan_import(*, actor: Actor, rows: list[list[Cell]]) -> Counts:
    """Check every row of a treatment-plan sheet, then add or change the action of each,
    all or none; a row without an action number adds one to its risk."""
    seen: dict[int, int] = {}
    changes = check_rows(
        actor, TREATMENT_PLAN, rows, lambda row, found: _check_action(found, row, seen)
    )
    return write_rows(TREATMENT_PLAN, changes, lambda change: _write_action(actor, change))
