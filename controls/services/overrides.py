"""Officers' overrides and not-applicable marks: justified, expiring, audited."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from controls.engine.status import Status
from controls.models import Override, Subcategory
from controls.services.verdicts import verdicts_refresh
from riskreg.audit.services import audit_append
from riskreg.inventory.models import AISystem
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.actor import Actor

OVERRIDE_STATUSES = (Status.NOT_MET, Status.INCONCLUSIVE, Status.PARTIALLY_MET, Status.MET)
MAX_DAYS = 366


@transaction.atomic
def override_create(
    *,
    actor: Actor,
    system: AISystem,
    subcategory: Subcategory,
    kind: str,
    justification: str,
    expires_at: datetime,
    status: str | None = None,
) -> Override:
    """Put an officer's status (or not applicable) in place of the computed verdict.

    An organisation-wide outcome is overridden for the whole organisation, as it is
    decided once for all systems. The verdicts are decided again at once.
    """
    now = timezone.now()
    if not justification.strip():
        raise ValidationFailedError.for_field("justification", "an override needs a justification")
    if expires_at <= now:
        raise ValidationFailedError.for_field("expires_at", "must lie in the future")
    if (expires_at - now).days > MAX_DAYS:
        raise ValidationFailedError.for_field("expires_at", f"must lie within {MAX_DAYS} days")
    if kind == Override.Kind.NOT_APPLICABLE:
        status = Status.NOT_APPLICABLE
    elif status not in OVERRIDE_STATUSES:
        raise ValidationFailedError.for_field(
            "status", f"must be one of {', '.join(OVERRIDE_STATUSES)}"
        )
    scope_system = system if subcategory.scope == "system" else None
    # One decision per outcome: a new one replaces whatever was in force.
    replaced = Override.objects.filter(
        organization_id=actor.organization_id,
        system=scope_system,
        subcategory=subcategory,
        ended_at__isnull=True,
        expires_at__gt=now,
    )
    replaced_ids = [str(u) for u in replaced.values_list("uid", flat=True)]
    replaced.update(ended_at=now)
    ref = actor.audit_ref()
    override = Override(
        organization_id=actor.organization_id,
        system=scope_system,
        subcategory=subcategory,
        kind=kind,
        status=status,
        justification=justification,
        expires_at=expires_at,
        actor_type=ref["type"],
        actor_id=ref["id"],
        actor_label=ref["label"],
        created_at=now,
    )
    override.full_clean()
    override.save()
    audit_append(
        actor=actor,
        action="verdict.not_applicable"
        if kind == Override.Kind.NOT_APPLICABLE
        else "verdict.override",
        object_type="verdict",
        object_id=override.uid,
        changes={
            "system": {"before": None, "after": scope_system.slug if scope_system else None},
            "subcategory": {"before": None, "after": subcategory.id},
            "status": {"before": None, "after": status},
            "justification": {"before": None, "after": justification},
            "expires_at": {"before": None, "after": expires_at.isoformat()},
            "replaces": {"before": None, "after": replaced_ids},
        },
    )
    verdicts_refresh(
        organization_id=actor.organization_id,
        system_id=scope_system.pk if scope_system else None,
        cause="override",
    )
    return override
