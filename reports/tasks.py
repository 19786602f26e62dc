"""Rendering and signing in the background; thin, the services do the work."""

import logging

from celery import shared_task

from reports.services.pipeline import report_mark_failed, report_render_draft, report_sign

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def report_render_task(report_id: int) -> None:
    """Render a requested report's draft (idempotent: a rendered draft is left alone)."""
    try:
        report_render_draft(report_id=report_id)
    except Exception as exc:
        log.exception("report %s: draft rendering failed", report_id)
        report_mark_failed(report_id=report_id, code="render_failed", message=str(exc)[:500])


@shared_task(acks_late=True)
def report_sign_task(report_id: int) -> None:
    """Render the approved final from the same snapshot and sign it (idempotent)."""
    try:
        report_sign(report_id=report_id)
    except Exception as exc:
        log.exception("report %s: signing failed", report_id)
        report_mark_failed(report_id=report_id, code="sign_failed", message=str(exc)[:500])
