"""Periodic check of every organisation's audit chain."""

import logging

from celery import shared_task

from riskreg.audit.services import audit_verify
from riskreg.organisations.selectors import organization_list

log = logging.getLogger(__name__)


@shared_task(name="riskreg.audit.tasks.audit_verify_all_task")
def audit_verify_all_task() -> int:
    """Verify every chain; log each break loudly. Returns the number of broken chains."""
    broken = 0
    for org in organization_list():
        report = audit_verify(organization=org)
        if not report.ok:
            broken += 1
            log.error("audit chain of %s is broken: %s", org.slug, "; ".join(report.problems))
    return broken
