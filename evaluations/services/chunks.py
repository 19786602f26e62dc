"""Scale-out: a large predictions file split into parts that workers process in parallel.

The job's first delivery plans (`assessment_job_plan`): a file above
RISKREG_ASSESSMENT_CHUNK_BYTES becomes parts of rows (`pipeline.plan`), one
`AssessmentChunk` row each, and one task per part is sent after the transaction commits.
The job then holds no lease of its own: each part does, with the job's discipline (claimed
with a lease renewed while it runs, deliveries capped, nothing done for a job that ended).
A part stores the engines' additive state as exact JSON and marks itself done; the part
that finds, under the job's row lock, that every part is done takes the job's lease and
merges the states into the evidence, through the same `assessment_job_finish` as one pass.
No result backend is involved: the database holds every partial result.

Recovery comes from the sweep (`assessment_chunks_sweep`, run by the job sweep): parts
whose lease expired and parts nobody picked up are sent again, and a job whose parts are
all done but whose merge never started or was lost is sent again, its delivery merging.
"""

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from evaluations.models import AssessmentChunk, AssessmentJob, ChunkStatus, JobStatus
from evaluations.services.assessments import (
    _end,
    _enqueue_on_commit,
    _lease_until,
    _LeaseKeeper,
    _StopError,
    assessment_job_finish,
    run_guarded,
    run_on_input,
)

log = logging.getLogger(__name__)
# A part in one of these is still to be computed.
_OPEN = (ChunkStatus.QUEUED, ChunkStatus.RUNNING)


def assessment_job_chunked(*, job_id: int) -> bool:
    """Whether the job was split into parts (its deliveries then only merge)."""
    return AssessmentChunk.objects.filter(job_id=job_id).exists()


def assessment_job_plan(*, job: AssessmentJob, worker: str, path: Path) -> bool:
    """Split the job's file into parts and queue them; False when one pass is better (a
    file no larger than RISKREG_ASSESSMENT_CHUNK_BYTES, or one that cannot be split)."""
    from evaluations.assessments.pipeline import plan

    part_bytes = settings.RISKREG_ASSESSMENT_CHUNK_BYTES
    if part_bytes <= 0 or job.input.size <= part_bytes:
        return False
    parts, shared = plan(
        path,
        format=job.input_format,
        kinds=list(job.kinds),
        mapping=dict(job.mapping),
        options=dict(job.options),
        part_bytes=part_bytes,
    )
    if not parts:
        return False
    rows = [
        AssessmentChunk(
            index=i,
            row_start=part.row_start,
            row_stop=part.row_stop,
            byte_start=part.byte_start,
            byte_stop=part.byte_stop,
            header_stop=part.header_stop,
            plan=shared.to_json(),
        )
        for i, part in enumerate(parts)
    ]
    _chunks_create(job.pk, worker, rows)
    return True


@transaction.atomic
def _chunks_create(job_id: int, worker: str, rows: list[AssessmentChunk]) -> None:
    """Write the parts, hand the job's lease back, and send one task per part on commit."""
    job = AssessmentJob.objects.select_for_update().get(pk=job_id)
    if job.done or job.lease_owner != worker:
        raise _StopError  # cancelled meanwhile, or another delivery took over
    created: list[int] = []
    if not job.chunks.exists():  # another delivery may have planned it already
        for row in rows:
            row.job = job
            row.full_clean()
            row.save()
            created.append(row.pk)
    job.lease_owner, job.lease_expires_at = "", None
    job.progress, job.updated_at = 0.0, timezone.now()
    job.message = f"Split into {len(rows)} parts for the workers."
    job.save(update_fields=["lease_owner", "lease_expires_at", "progress", "updated_at", "message"])
    for chunk_id in created:
        _enqueue_chunk_on_commit(chunk_id)
    log.info("assessment job %s: split into %s parts", job_id, len(rows))


def _enqueue_chunk_on_commit(chunk_id: int) -> None:
    from evaluations.tasks import assessment_chunk_task

    transaction.on_commit(lambda: assessment_chunk_task.delay(chunk_id))


# --- one part --------------------------------------------------------------------------------


def _locked(chunk_id: int) -> tuple[AssessmentJob, AssessmentChunk] | None:
    """The part and its job, both locked, the job first (the order every writer keeps)."""
    job_id = AssessmentChunk.objects.filter(pk=chunk_id).values_list("job_id", flat=True).first()
    if job_id is None:
        return None
    job = AssessmentJob.objects.select_for_update().get(pk=job_id)
    return job, AssessmentChunk.objects.select_for_update().get(pk=chunk_id)


@transaction.atomic
def assessment_chunk_claim(*, chunk_id: int, worker: str) -> AssessmentChunk | None:
    """Take the part's lease for this delivery; None when there is nothing to run."""
    found = _locked(chunk_id)
    if found is None:
        return None
    job, chunk = found
    if job.done or chunk.status in (ChunkStatus.DONE, ChunkStatus.FAILED):
        return None
    now = timezone.now()
    leased = chunk.lease_expires_at is not None and chunk.lease_expires_at > now
    if chunk.status == ChunkStatus.RUNNING and leased and chunk.lease_owner != worker:
        return None  # another worker holds it; this delivery is a duplicate
    chunk.deliveries += 1
    chunk.updated_at = now
    if chunk.deliveries > settings.RISKREG_ASSESSMENT_MAX_DELIVERIES:
        chunk.status, chunk.lease_expires_at = ChunkStatus.FAILED, None
        chunk.save(update_fields=["deliveries", "status", "lease_expires_at", "updated_at"])
        _end(
            job,
            JobStatus.FAILED,
            "too_many_deliveries",
            f"Part {chunk.index} was delivered too often; given up.",
        )
        return None
    chunk.status, chunk.lease_owner = ChunkStatus.RUNNING, worker
    chunk.lease_expires_at = _lease_until()
    chunk.save(
        update_fields=["deliveries", "status", "lease_owner", "lease_expires_at", "updated_at"]
    )
    chunk.job = job
    return chunk


def assessment_chunk_progress(*, chunk_id: int, worker: str) -> bool:
    """Renew the part's lease; False when its job ended (cancelled, failed) or another
    delivery took the part over."""
    renewed = AssessmentChunk.objects.filter(
        pk=chunk_id, status=ChunkStatus.RUNNING, lease_owner=worker, job__status=JobStatus.RUNNING
    ).update(lease_expires_at=_lease_until(), updated_at=timezone.now())
    return renewed == 1


@transaction.atomic
def assessment_chunk_finish(*, chunk_id: int, worker: str, state: dict[str, Any]) -> bool:
    """Store the part's state and mark it done; True when it was the last part to finish."""
    found = _locked(chunk_id)
    if found is None:
        return False
    job, chunk = found
    if job.done or chunk.status != ChunkStatus.RUNNING or chunk.lease_owner != worker:
        return False  # the job ended meanwhile, or another delivery took the part over
    now = timezone.now()
    chunk.state, chunk.status = state, ChunkStatus.DONE
    chunk.lease_expires_at, chunk.finished_at, chunk.updated_at = None, now, now
    chunk.save(update_fields=["state", "status", "lease_expires_at", "finished_at", "updated_at"])
    counts = job.chunks.aggregate(total=Count("pk"), done=Count("pk", Q(status=ChunkStatus.DONE)))
    job.progress = min(counts["done"] / counts["total"], 0.99)
    job.updated_at = now
    job.save(update_fields=["progress", "updated_at"])
    return bool(counts["done"] == counts["total"])


def assessment_chunk_run(*, chunk_id: int, worker: str) -> None:
    """Claim the part, compute its state, store it; the last part merges the job."""
    from evaluations.assessments.parts import Part
    from evaluations.assessments.pipeline import Shared, compute_part

    chunk = assessment_chunk_claim(chunk_id=chunk_id, worker=worker)
    if chunk is None:
        return
    job = chunk.job
    part = Part(
        chunk.row_start, chunk.row_stop, chunk.byte_start, chunk.byte_stop, chunk.header_stop
    )
    keeper = _LeaseKeeper(
        job.pk,
        worker,
        renew=lambda _: assessment_chunk_progress(chunk_id=chunk_id, worker=worker),
        name=f"lease-part-{chunk_id}",
    )

    def work(path: Path) -> dict[str, Any]:
        return compute_part(
            path,
            part,
            Shared.from_json(chunk.plan),
            format=job.input_format,
            kinds=list(job.kinds),
            mapping=dict(job.mapping),
            options=dict(job.options),
            on_progress=keeper.report,
        )

    state = run_guarded(job.pk, keeper, lambda: run_on_input(job, work))
    if state is None or keeper.lost.is_set():
        return
    if assessment_chunk_finish(chunk_id=chunk_id, worker=worker, state=state):
        assessment_chunks_merge(job_id=job.pk, worker=worker)


# --- the merge -------------------------------------------------------------------------------


@transaction.atomic
def _merge_claim(job_id: int, worker: str) -> AssessmentJob | None:
    """Take the job's lease to merge its parts; None unless every part is done and no other
    worker is merging. Taking over a merge whose lease ran out counts as a delivery."""
    job = AssessmentJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.done or job.chunks.exclude(status=ChunkStatus.DONE).exists():
        return None
    now = timezone.now()
    if job.lease_owner and job.lease_owner != worker:
        if job.lease_expires_at is not None and job.lease_expires_at > now:
            return None  # another worker is merging
        job.deliveries += 1
        if job.deliveries > settings.RISKREG_ASSESSMENT_MAX_DELIVERIES:
            _end(job, JobStatus.FAILED, "too_many_deliveries", "Delivered too often; given up.")
            return None
    job.lease_owner, job.lease_expires_at, job.updated_at = worker, _lease_until(), now
    job.save(update_fields=["deliveries", "lease_owner", "lease_expires_at", "updated_at"])
    return job


def assessment_chunks_merge(*, job_id: int, worker: str) -> None:
    """Merge the parts' states into the job's evidence, once every part is done."""
    from evaluations.assessments.pipeline import merge_parts
    from riskreg.lib.memlimit import memory_budget

    job = _merge_claim(job_id, worker)
    if job is None:
        return
    keeper = _LeaseKeeper(job_id, worker, progress=job.progress)

    def merge() -> dict[str, dict[str, Any]]:
        saved = job.chunks.order_by("index").values_list("state", flat=True)
        states = (dict(state or {}) for state in saved.iterator())  # one part at a time
        with memory_budget(settings.RISKREG_ASSESSMENT_MEMORY_BYTES):
            return merge_parts(
                states, kinds=list(job.kinds), mapping=dict(job.mapping), options=dict(job.options)
            )

    results = run_guarded(job_id, keeper, merge)
    if results is None or keeper.lost.is_set():
        return
    assessment_job_finish(job_id=job_id, worker=worker, results=results)


# --- the sweep -------------------------------------------------------------------------------


def assessment_chunks_sweep() -> list[int]:
    """Re-send parts whose lease expired or that nobody picked up, and jobs whose parts are
    all done but whose merge never started or was lost (returns the parts' ids)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RISKREG_ASSESSMENT_LEASE_SECONDS)
    lost = AssessmentChunk.objects.filter(job__status=JobStatus.RUNNING).filter(
        Q(status=ChunkStatus.RUNNING, lease_expires_at__lt=now)
        | Q(status=ChunkStatus.QUEUED, updated_at__lt=stale)
    )
    ids = list(lost.order_by("pk").values_list("pk", flat=True))
    for chunk_id in ids:
        with transaction.atomic():
            found = _locked(chunk_id)
            if found is None or found[0].done or found[1].status not in _OPEN:
                continue
            found[1].updated_at = now
            found[1].save(update_fields=["updated_at"])
            log.warning("assessment part %s: lease expired or never picked up; re-sent", chunk_id)
            _enqueue_chunk_on_commit(chunk_id)
    _sweep_unmerged(now, stale)
    return ids


def _sweep_unmerged(now: Any, stale: Any) -> None:
    """Jobs whose parts are all done, with no merge running, untouched for a lease: sent
    again, so that their delivery merges (`assessment_run`)."""
    parts = AssessmentChunk.objects.filter(job=OuterRef("pk"))
    waiting = AssessmentJob.objects.filter(
        Exists(parts),
        ~Exists(parts.exclude(status=ChunkStatus.DONE)),
        status=JobStatus.RUNNING,
        lease_expires_at__isnull=True,
        updated_at__lt=stale,
    )
    for job_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            job = AssessmentJob.objects.select_for_update().get(pk=job_id)
            if job.done or job.lease_expires_at is not None:
                continue
            job.updated_at = now
            job.save(update_fields=["updated_at"])
            log.warning("assessment job %s: every part done but not merged; re-enqueued", job_id)
            _enqueue_on_commit(job_id)
