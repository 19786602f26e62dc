"""Periodic housekeeping of evidence storage."""

from celery import shared_task

from evaluations.services.storage import attachment_sweep


@shared_task(name="evaluations.tasks.attachment_sweep_task")
def attachment_sweep_task() -> int:
    """Remove attachment files that no row owns; returns how many were removed."""
    return len(attachment_sweep().removed)
