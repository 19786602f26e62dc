"""How a risk is treated: the decision, the plan, and the actions with owners and due dates."""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.models import assign, save_changed
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Membership
from riskreg.organisations.selectors import member_by_username
from riskreg.risks.models import ActionStatus, Risk, TreatmentAction, TreatmentDecision

ACTION_FIELDS = ("title", "due_date", "status")


def _owner(actor: Actor, username: str | None) -> Membership | None:
    if not username:
        return None
    return member_by_username(
        organization_id=actor.organization_id, username=username, field="owner"
    )


@transaction.atomic
def risk_treatment_set(
    *, actor: Actor, risk: Risk, decision: str | None = None, plan: str | None = None
) -> Risk:
    """Record the treatment decision and plan.

    "accept" here is the intention; only risk_accept puts a risk into the accepted status.
    """
    values: dict[str, Any] = {}
    if decision is not None:
        if decision not in [*TreatmentDecision.values, ""]:
            raise ValidationFailedError.for_field(
                "decision", f"must be one of {TreatmentDecision.values}"
            )
        values["treatment_decision"] = decision
    if plan is not None:
        values["treatment_plan"] = plan
    changes = assign(risk, values)
    save_changed(risk, changes)
    if changes:
        audit_append(
            actor=actor,
            action="risk.treatment",
            object_type="risk",
            object_id=risk.pk,
            changes=changes,
        )
    return risk


def _completion(action: TreatmentAction) -> dict[str, Any]:
    """Stamp the moment an action is done; clear it if it is reopened."""
    done = action.status == ActionStatus.DONE
    if done and action.completed_at is None:
        return assign(action, {"completed_at": timezone.now()})
    if not done and action.completed_at is not None:
        return assign(action, {"completed_at": None})
    return {}


@transaction.atomic
def treatment_action_create(
    *,
    actor: Actor,
    risk: Risk,
    title: str,
    due_date: date,
    owner: str | None = None,
    status: str = ActionStatus.PLANNED,
) -> TreatmentAction:
    """Add an action to a risk's treatment, numbered A1, A2, … within the risk."""
    # Lock the risk so two additions never take the same number.
    Risk.objects.select_for_update().filter(pk=risk.pk).first()
    top = TreatmentAction.objects.filter(risk=risk).aggregate(n=Max("number"))["n"]
    action = TreatmentAction(
        risk=risk,
        number=(top or 0) + 1,
        title=title,
        owner=_owner(actor, owner),
        due_date=due_date,
        status=status,
    )
    _completion(action)
    action.full_clean()
    action.save()
    changes = {
        f"A{action.number}.{name}": {"before": None, "after": value}
        for name, value in {
            "title": title,
            "owner": owner or None,
            "due_date": due_date,
            "status": status,
        }.items()
    }
    audit_append(
        actor=actor,
        action="risk.action_create",
        object_type="risk",
        object_id=risk.pk,
        changes=changes,
    )
    return action


@transaction.atomic
def treatment_action_update(
    *, actor: Actor, action: TreatmentAction, clear_owner: bool = False, **fields: Any
) -> TreatmentAction:
    """Change an action's title, owner, due date or status."""
    owner = fields.pop("owner", None)
    changes = assign(action, {k: v for k, v in fields.items() if k in ACTION_FIELDS})
    if owner is not None or clear_owner:
        before = action.owner.user.get_username() if action.owner else None
        if before != (owner or None):
            action.owner = _owner(actor, owner)
            changes["owner"] = {"before": before, "after": owner or None}
    changes |= _completion(action)
    save_changed(action, changes)
    if changes:
        audit_append(
            actor=actor,
            action="risk.action_update",
            object_type="risk",
            object_id=action.risk_id,
            changes={f"A{action.number}.{name}": change for name, change in changes.items()},
        )
    return action
