"""Members' notification preferences."""

from django.db import transaction
from django.utils import timezone

from riskreg.audit.services import audit_append
from riskreg.notifications.models import NotificationKind, NotificationPreference
from riskreg.notifications.selectors import preference_member
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Membership


def _set(membership: Membership, kind: str, email: bool | None) -> tuple[object, object]:
    """Apply one choice (None: back to the default); returns (before, after) as recorded."""
    row = NotificationPreference.objects.filter(membership=membership, kind=kind).first()
    before = row.email if row is not None else None
    if email is None:
        NotificationPreference.objects.filter(membership=membership, kind=kind).delete()
        return before, None
    candidate = NotificationPreference(membership=membership, kind=kind, email=email)
    candidate.full_clean(validate_unique=False, validate_constraints=False)
    # update_or_create settles two concurrent first choices on the unique constraint.
    NotificationPreference.objects.update_or_create(
        membership=membership, kind=kind, defaults={"email": email, "updated_at": timezone.now()}
    )
    return before, email


@transaction.atomic
def preferences_update(*, actor: Actor, choices: dict[str, bool | None]) -> None:
    """Set the caller's e-mail choice per kind (None returns a kind to its default)."""
    membership = preference_member(actor=actor)
    changes = {}
    for kind in sorted(choices):
        before, after = _set(membership, NotificationKind(kind), choices[kind])
        if before != after:
            changes[kind] = {"before": before, "after": after}
    if changes:
        audit_append(
            actor=actor,
            action="notification.preferences_update",
            object_type="membership",
            object_id=membership.pk,
            changes=changes,
        )
