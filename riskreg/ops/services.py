"""Operational writes: worker heartbeats and task probes (not business data, not audited)."""

from django.utils import timezone

from riskreg.ops.models import TaskProbe, WorkerHeartbeat


def heartbeat_record(*, hostname: str) -> None:
    """Mark a worker as alive now."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now()}
    )


def heartbeat_forget(*, hostname: str) -> None:
    """Remove a worker's heartbeat when it shuts down cleanly."""
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def probe_create() -> TaskProbe:
    return TaskProbe.objects.create()


def probe_answer(*, probe_id: int, hostname: str) -> bool:
    """Stamp a probe as answered; False when it does not exist (or was answered already)."""
    updated = TaskProbe.objects.filter(pk=probe_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=hostname
    )
    return updated == 1
