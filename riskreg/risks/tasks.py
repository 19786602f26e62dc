"""Periodic work on the register; thin, the services do the work."""

import logging

from celery import shared_task

from riskreg.risks.services.acceptance import acceptance_expire_due

log = logging.getLogger(__name__)


@shared_task
def acceptance_expire_task() -> int:
    """Return risks whose acceptance ran out to open (idempotent: ended ones are skipped)."""
    ended = acceptance_expire_due()
    if ended:
        log.info("risk acceptances expired: %d", ended)
    return ended
