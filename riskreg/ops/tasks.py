"""Worker liveness: a heartbeat thread per worker, and a probe task for round trips."""

import logging
import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown

from riskreg.ops import services
from riskreg.ops.selectors import HEARTBEAT_SECONDS

log = logging.getLogger(__name__)
_stop = threading.Event()


@shared_task(name="riskreg.ops.tasks.probe_answer_task", acks_late=True)
def probe_answer_task(probe_id: int) -> None:
    """Stamp a probe row: proof that a message went through broker and worker."""
    from celery import current_task

    hostname = str(current_task.request.hostname or "unknown")
    if not services.probe_answer(probe_id=probe_id, hostname=hostname):
        log.info("probe %s missing or already answered", probe_id)


def _beat(hostname: str) -> None:
    from django.db import close_old_connections

    while not _stop.is_set():
        try:
            services.heartbeat_record(hostname=hostname)
        except Exception:  # the next beat retries; a dead DB shows in /readyz anyway
            log.exception("heartbeat failed")
        finally:
            close_old_connections()
        _stop.wait(HEARTBEAT_SECONDS)


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    hostname = getattr(sender, "hostname", None) or "worker"
    _stop.clear()
    threading.Thread(target=_beat, args=(hostname,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    _stop.set()
    # A worker that leaves cleanly says so at once, rather than looking alive for
    # another 30 seconds; a killed one simply goes stale.
    hostname = getattr(sender, "hostname", None)
    if hostname:
        try:
            services.heartbeat_forget(hostname=hostname)
        except Exception:
            log.exception("could not remove heartbeat of %s", hostname)
