"""A test-only task, loaded into test workers with ``--include``: never in production.

Each delivery leaves a numbered file holding its process id and parent id; the
first delivery then waits to be killed, so a test can SIGKILL the pool child
that runs it and watch the task come back.
"""

import os
import time
from pathlib import Path

from celery import shared_task

FIRST_RUN_WAIT_SECONDS = 60  # bounded: the test kills this process within seconds


@shared_task(name="tests.integration.worker_tasks.record_delivery_task")
def record_delivery_task(folder: str) -> None:
    """Record this delivery; the first one then blocks until it is killed."""
    path = Path(folder)
    number = len(list(path.glob("delivery-*"))) + 1
    hidden = path / f".delivery-{number}"
    hidden.write_text(f"{os.getpid()} {os.getppid()}")
    hidden.rename(path / f"delivery-{number}")  # appears complete or not at all
    if number == 1:
        time.sleep(FIRST_RUN_WAIT_SECONDS)
