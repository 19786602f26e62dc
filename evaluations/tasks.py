"""Evaluation tasks: assessment jobs, their lease sweep, and attachment housekeeping.

Tasks take ids, never rows. Delivery is at least once (late acknowledgement, re-queued
when a worker is lost); the services make each result exactly once.
"""

import os
import socket

from celery import shared_task

from evaluations.services.assessments import assessment_jobs_sweep, assessment_run
from evaluations.services.chunks import assessment_chunk_run
from evaluations.services.storage import attachment_sweep


def _worker() -> str:
    """This process, as a lease owner: host and pid of the pool child."""
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(
    name="evaluations.tasks.assessment_run_task",
    acks_late=True,
    reject_on_worker_lost=True,
)
def assessment_run_task(job_id: int) -> None:
    """Run one assessment job (a duplicate delivery finds it leased or done and returns)."""
    assessment_run(job_id=job_id, worker=_worker())


@shared_task(
    name="evaluations.tasks.assessment_chunk_task",
    acks_late=True,
    reject_on_worker_lost=True,
)
def assessment_chunk_task(chunk_id: int) -> None:
    """Run one part of a split job; the last part to finish merges the job's evidence."""
    assessment_chunk_run(chunk_id=chunk_id, worker=_worker())


@shared_task(name="evaluations.tasks.assessment_sweep_task")
def assessment_sweep_task() -> int:
    """Re-enqueue jobs (and parts of split jobs) whose lease expired; returns how many jobs."""
    return len(assessment_jobs_sweep())


@shared_task(name="evaluations.tasks.attachment_sweep_task")
def attachment_sweep_task() -> int:
    """Remove attachment files that no row owns; returns how many were removed."""
    return len(attachment_sweep().removed)
