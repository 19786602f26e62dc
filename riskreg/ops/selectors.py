"""Readiness checks: database, broker, a live worker."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from riskreg.ops.models import TaskProbe, WorkerHeartbeat

HEARTBEAT_SECONDS = 5
HEARTBEAT_STALE = timedelta(seconds=30)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the probe reports, not raises
        return False


def broker_ok() -> bool:
    from riskreg.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # noqa: BLE001 - as above
        return False


def worker_alive() -> str | None:
    """The hostname of a worker seen in the last 30 seconds, if any."""
    fresh = WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - HEARTBEAT_STALE)
    return fresh.order_by("-seen_at").values_list("hostname", flat=True).first()


def probe_get(*, probe_id: int) -> TaskProbe | None:
    return TaskProbe.objects.filter(pk=probe_id).first()
