"""Writes to the risk core: create, update, and the plain status moves."""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.selectors import subcategories_by_ids
from riskreg.audit.services import audit_append
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.models import assign, save_changed, set_links
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization
from riskreg.organisations.selectors import member_by_username
from riskreg.risks.errors import RiskTransitionInvalidError, RiskTransitionReservedError
from riskreg.risks.models import Risk, RiskStatus
from riskreg.risks.selectors.workflow import matrix_current
from riskreg.risks.services.acceptance import end_acceptance_on_leaving
from riskreg.risks.services.scoring import schedule_review

S = RiskStatus
# The moves this endpoint makes. Accepting and dismissing have rules of their own
# (segregation of duties, justification, expiry) and live in the acceptance workflow.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.OPEN}),
    S.OPEN: frozenset({S.TREATING, S.CLOSED}),
    S.TREATING: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
    # Leaving acceptance by hand ends the acceptance in force; see services/acceptance.py.
    S.ACCEPTED: frozenset({S.OPEN, S.CLOSED}),
    # A dismissal found to be wrong is undone by reopening.
    S.DISMISSED: frozenset({S.OPEN}),
}
RESERVED = frozenset({S.ACCEPTED, S.DISMISSED})
FIELDS = ("title", "statement", "category", "source")


def _links(actor: Actor, links: dict[str, Any]) -> dict[str, list[Any]]:
    """Resolve link references within the organisation; unknown ones are a 400."""
    resolved = inventory.inventory_links(actor=actor, links=links)
    if links.get("subcategories") is not None:
        resolved["subcategories"] = subcategories_by_ids(
            ids=links["subcategories"], field="subcategories"
        )
    return resolved


def _check_visible(actor: Actor, resolved: dict[str, list[Any]], *, creating: bool) -> None:
    """A limited service account must keep each risk linked to one of its systems.

    Otherwise the risk it just wrote would vanish from its own view.
    """
    if actor.system_ids is None:
        return
    if "systems" in resolved and not resolved["systems"]:
        raise ValidationFailedError.for_field("systems", "must name one of your AI systems")
    if creating and "systems" not in resolved:
        raise ValidationFailedError.for_field("systems", "must name one of your AI systems")


@transaction.atomic
def risk_create(
    *,
    actor: Actor,
    title: str,
    statement: str,
    category: str,
    source: str = "manual",
    owner: str | None = None,
    identified_on: date | None = None,
    **links: Any,
) -> Risk:
    """Record a new risk as proposed, with the next reference code of the organisation.

    identified_on (default today) may lie in the past for a risk carried over from an
    earlier register, never in the future.
    """
    today = timezone.localdate()
    if identified_on is not None and identified_on > today:
        raise ValidationFailedError.for_field("identified_on", "must not lie in the future")
    # Lock the organisation so two creations never take the same number.
    Organization.objects.select_for_update().get(pk=actor.organization_id)
    resolved = _links(actor, links)
    _check_visible(actor, resolved, creating=True)
    owner_row = (
        member_by_username(organization_id=actor.organization_id, username=owner, field="owner")
        if owner
        else None
    )
    top = Risk.objects.filter(organization_id=actor.organization_id).aggregate(n=Max("number"))["n"]
    risk = Risk(
        organization_id=actor.organization_id,
        number=(top or 0) + 1,
        title=title,
        statement=statement,
        category=category,
        source=source,
        owner=owner_row,
        identified_on=identified_on or today,
    )
    risk.full_clean()
    risk.save()
    changes = {
        name: {"before": None, "after": value}
        for name, value in {
            "reference": risk.reference,
            "title": title,
            "statement": statement,
            "category": category,
            "source": source,
            "status": risk.status,
            "owner": owner,
            "identified_on": risk.identified_on,
        }.items()
    }
    changes |= set_links(risk, resolved)
    audit_append(
        actor=actor, action="risk.create", object_type="risk", object_id=risk.pk, changes=changes
    )
    return risk


@transaction.atomic
def risk_update(
    *, actor: Actor, risk: Risk, owner: str | None = None, clear_owner: bool = False, **fields: Any
) -> Risk:
    """Change a risk's text, category, owner or links (not its status)."""
    links: dict[str, Any] = {
        k: fields.pop(k)
        for k in ("systems", "model_versions", "datasets", "subcategories")
        if k in fields
    }
    resolved = _links(actor, links)
    _check_visible(actor, resolved, creating=False)
    changes = assign(risk, {k: v for k, v in fields.items() if k in FIELDS})
    if owner is not None or clear_owner:
        before = risk.owner.user.get_username() if risk.owner else None
        if before != owner:
            risk.owner = (
                member_by_username(
                    organization_id=actor.organization_id, username=owner, field="owner"
                )
                if owner
                else None
            )
            changes["owner"] = {"before": before, "after": owner}
    save_changed(risk, changes)
    changes |= set_links(risk, resolved)
    if changes:
        audit_append(
            actor=actor,
            action="risk.update",
            object_type="risk",
            object_id=risk.pk,
            changes=changes,
        )
    return risk


@transaction.atomic
def risk_transition(*, actor: Actor, risk: Risk, status: str) -> Risk:
    """Move a risk along proposed → open → treating → closed (and back to open)."""
    if status in RESERVED:
        raise RiskTransitionReservedError(
            f"status: {status!r} is set by the acceptance workflow",
            extra={"fields": {"status": [status]}},
        )
    if status not in TRANSITIONS[risk.status]:
        raise RiskTransitionInvalidError(
            f"status: cannot move from {risk.status!r} to {status!r}",
            extra={"from": risk.status, "to": status, "allowed": sorted(TRANSITIONS[risk.status])},
        )
    ended = end_acceptance_on_leaving(risk, status) if risk.status == S.ACCEPTED else {}
    changes = assign(risk, {"status": status, "dismissal_reason": ""})
    changes |= schedule_review(
        risk, matrix_current(organization_id=actor.organization_id), timezone.localdate()
    )
    save_changed(risk, changes)
    audit_append(
        actor=actor,
        action="risk.transition",
        object_type="risk",
        object_id=risk.pk,
        changes=ended | changes,
    )
    return risk
