"""Operational rows: worker heartbeats for /readyz and task probes for round-trip checks."""

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """Written by each Celery worker every few seconds; /readyz reads the newest."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.hostname


class TaskProbe(models.Model):
    """A row a worker stamps, proving a task went through broker and worker."""

    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"probe {self.pk}"
