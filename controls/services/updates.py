"""Verdict updates: what events ask of the workers, and what the workers report back.

An event that may change verdicts records a VerdictUpdate in its own transaction and has a
worker run it once that commits (docs/posture.md, "Keeping verdicts current"); the update
then reports the verdicts that changed, so that a client can wait for it.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from controls.models import Override, Verdict, VerdictChange, VerdictUpdate
from controls.services.verdicts import affected_entry, verdicts_refresh


def verdicts_request(
    *,
    organization_id: int,
    system_id: int | None,
    cause: str,
    evidence: Any = None,
    job: Any = None,
) -> VerdictUpdate:
    """Record that verdicts of a scope need deciding again, and have a worker do it once
    the caller's transaction commits. system_id None means the organisation and all its
    systems (organisation-wide documents count for every system)."""
    from controls.tasks import verdict_update_task

    update = VerdictUpdate.objects.create(
        organization_id=organization_id,
        system_id=system_id,
        evidence=evidence,
        job=job,
        cause=cause,
    )
    transaction.on_commit(lambda: verdict_update_task.delay(update.pk))
    return update


def verdict_update_run(*, update_id: int) -> None:
    """Decide the verdicts an update asked for; a second delivery finds it done.

    Every other pending update of the same scope is answered by the same refresh: it
    would otherwise find its change already made by this one and report nothing. They
    are locked before the evidence is read, so whatever they were created for (committed
    with them) is part of this refresh.
    """
    with transaction.atomic():
        update = VerdictUpdate.objects.select_for_update().filter(pk=update_id).first()
        if update is None or update.state == VerdictUpdate.State.DONE:
            return
        same_scope = VerdictUpdate.objects.filter(
            organization_id=update.organization_id, state=VerdictUpdate.State.PENDING
        ).exclude(pk=update.pk)
        if update.system_id is not None:
            same_scope = same_scope.filter(system_id=update.system_id)
        absorbed = list(same_scope.select_for_update(skip_locked=True).order_by("pk"))
        affected = verdicts_refresh(
            organization_id=update.organization_id, system_id=update.system_id, cause=update.cause
        )
        done_at = timezone.now()
        for each in [update, *absorbed]:
            each.state, each.done_at = VerdictUpdate.State.DONE, done_at
            each.affected = _with_earlier_changes(each, affected)
            each.save(update_fields=["state", "affected", "done_at"])


def _with_earlier_changes(update: VerdictUpdate, affected: list[dict[str, Any]]) -> list[Any]:
    """affected, plus changes an earlier refresh made because of this update's evidence
    (it may have read the evidence before this update was written)."""
    uids = set()
    if update.evidence is not None:
        uids.add(str(update.evidence.uid))
    if update.job is not None:
        uids |= {str(u) for u in update.job.evidence.values_list("uid", flat=True)}
    if not uids:
        return affected
    seen = {(a["system"], a["subcategory"]) for a in affected}
    earlier = (
        VerdictChange.objects.filter(
            organization_id=update.organization_id, decided_at__gte=update.created_at
        )
        .exclude(scope__startswith="mv:")
        .select_related("system")
        .order_by("pk")
    )
    found = list(affected)
    for change in earlier:
        key = (change.system.slug if change.system else None, change.subcategory_id)
        if key not in seen and uids & set(change.evidence):
            seen.add(key)
            slugs = {change.system.pk: change.system.slug} if change.system else {}
            found.append(affected_entry(change, slugs))
    return found


STALE_UPDATE = timedelta(minutes=2)


def verdicts_sweep() -> int:
    """Ask for a refresh of every scope whose verdicts ran out (expired evidence, an
    override's end, an incident deadline) and re-enqueue updates pending for too long."""
    now = timezone.now()
    expired = Override.objects.filter(ended_at__isnull=True, expires_at__lte=now)
    due = {
        (v["organization_id"], v["system_id"])
        for v in Verdict.objects.filter(valid_until__lte=now).values("organization_id", "system_id")
    }
    due |= {
        (o["organization_id"], o["system_id"])
        for o in expired.values("organization_id", "system_id")
    }
    expired.update(ended_at=now)
    # An organisation-wide verdict (system None) refreshes the organisation and its systems.
    for organization_id, system_id in sorted(due, key=lambda d: (d[0], d[1] or 0)):
        verdicts_request(organization_id=organization_id, system_id=system_id, cause="expiry")
    stale = VerdictUpdate.objects.filter(
        state=VerdictUpdate.State.PENDING, created_at__lte=now - STALE_UPDATE
    ).values_list("pk", flat=True)
    from controls.tasks import verdict_update_task

    for pk in list(stale):
        _enqueue_on_commit(verdict_update_task, pk)
    return len(due)


def _enqueue_on_commit(task: Any, pk: int) -> None:
    transaction.on_commit(lambda: task.delay(pk))


def verdict_updates_run_pending(*, organization_id: int) -> int:
    """Run an organisation's pending updates in this process (the demo seeds its posture
    before any worker starts); returns how many ran."""
    pending = VerdictUpdate.objects.filter(
        organization_id=organization_id, state=VerdictUpdate.State.PENDING
    ).order_by("pk")
    ids = list(pending.values_list("pk", flat=True))
    for pk in ids:
        verdict_update_run(update_id=pk)
    return len(ids)
