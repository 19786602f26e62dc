"""Verdict work in the background; thin, the services do it."""

import logging

from celery import shared_task

from controls.services.updates import verdict_update_run, verdicts_sweep

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def verdict_update_task(update_id: int) -> None:
    """Decide what one update asked for (idempotent: a done update is skipped)."""
    verdict_update_run(update_id=update_id)


@shared_task
def verdicts_sweep_task() -> int:
    """Refresh verdicts whose evidence, override or incident deadline ran out, and re-run
    updates whose message was lost."""
    count = verdicts_sweep()
    if count:
        log.info("verdict refreshes queued by the sweep: %d", count)
    return count
