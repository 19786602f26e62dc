"""Notifications in the demo organisation: one member's own choice beside the defaults.

Nothing external is registered (no webhook: the demo must not send requests anywhere).
The periodic scan mails the demo's events through the console backend once `make run`
starts beat, to the members who have an e-mail address.
"""

from riskreg.notifications.services.preferences import preferences_update
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor


def seed_notifications(actor: Actor) -> None:
    """The auditor follows regulator deadlines (off by default for auditors); idempotent."""
    membership = org_selectors.membership_get(
        organization_id=actor.organization_id, username="auditor"
    )
    if membership is None:
        return
    auditor = org_selectors.actor_for_membership(membership)
    preferences_update(actor=auditor, choices={"incident.regulator_deadline": True})
