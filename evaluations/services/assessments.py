"""Assessment jobs: a predictions file becomes evidence computed by riskreg's workers.

Delivery is at least once; results are exactly once. The database is the source of
truth: a worker claims a queued job by taking a lease it renews while it works, writes
each result once per job and kind (a unique constraint), and ends the job. A sweep
re-enqueues jobs whose lease ran out (a killed worker, a message the embedded broker lost)
and fails those delivered too often. A large file is split into parts that workers run in
parallel (`evaluations.services.chunks`).
"""

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from evaluations import attachments as files
from evaluations import blobstore
from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.errors import (
    AttachmentTooLargeError,
    AttachmentTypeRefusedError,
    IdempotencyConflictError,
    JobFinishedError,
)
from evaluations.models import AssessmentJob, AssessmentKind, Blob, JobStatus
from evaluations.services.storage import blob_store
from riskreg.audit.services import audit_append
from riskreg.inventory import selectors as inventory
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.hashing import canonical_hash
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization

log = logging.getLogger(__name__)
R = TypeVar("R")

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
# What each kind needs from the column mapping.
NEEDS: dict[str, tuple[str, ...]] = {
    AssessmentKind.FAIRNESS: ("label", "prediction", "sensitive"),
    AssessmentKind.CALIBRATION: ("label", "score"),
    AssessmentKind.DATA_QUALITY: (),
    # From a model (evaluations/services/model_jobs.py), which checks its own columns.
    AssessmentKind.ROBUSTNESS: ("label",),
    AssessmentKind.EFFICIENCY: (),
}


@dataclass(frozen=True)
class Created:
    job: AssessmentJob
    created: bool  # False: an earlier request with the same Idempotency-Key


def input_format_of(name: str, head: bytes, tail: bytes) -> str:
    """csv or parquet: from the name when it has a suffix, else from the bytes; the bytes
    must agree with the name."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    parquet = head.startswith(b"PAR1") and tail.endswith(b"PAR1")
    kind = FORMATS.get(suffix) if suffix else ("parquet" if parquet else "csv")
    if kind is None:
        raise AttachmentTypeRefusedError(
            f"file: {name!r} must be a .csv or .parquet file", extra={"name": name}
        )
    if kind == "parquet" and not parquet:
        raise AttachmentTypeRefusedError(
            f"file: {name!r} is not a Parquet file", extra={"name": name}
        )
    if kind == "csv" and (head.startswith(b"PAR1") or b"\x00" in head):
        raise AttachmentTypeRefusedError(f"file: {name!r} is not a CSV file", extra={"name": name})
    return kind


def _check_mapping(kinds: list[str], mapping: dict[str, Any], header: list[str]) -> None:
    """Every mapped column exists, and every kind asked for has the columns it needs."""
    fields: dict[str, list[str]] = {}
    for role, value in mapping.items():
        for column in value if isinstance(value, list) else [value]:
            if role != "pos_label" and column is not None and column not in header:
                fields.setdefault(f"mapping.{role}", []).append(
                    f"no column {column!r} in the file (it has {', '.join(header[:20])})"
                )
    for kind in kinds:
        for role in NEEDS[kind]:
            if not mapping.get(role):
                fields.setdefault(f"mapping.{role}", []).append(f"is required for {kind}")
    if fields:
        first = next(iter(fields))
        raise ValidationFailedError(f"{first}: {fields[first][0]}", extra={"fields": fields})


def _check_dataset(actor: Actor, kinds: list[str], options: dict[str, Any]) -> None:
    """Data quality is about an inventory dataset, named in options.dataset."""
    if AssessmentKind.DATA_QUALITY not in kinds:
        return
    if not options.get("dataset"):
        raise ValidationFailedError.for_field("options.dataset", "is required for data_quality")
    inventory.datasets_by_slugs(actor=actor, slugs=[options["dataset"]], field="options.dataset")


def assessment_job_create(
    *,
    actor: Actor,
    system: AISystem,
    model_version: ModelVersion,
    upload: files.Upload,
    kinds: list[str],
    mapping: dict[str, Any],
    options: dict[str, Any],
    context: str = "evaluation",
    idempotency_key: str | None = None,
) -> Created:
    """Store the predictions file, check its type and header, and queue the job."""

    name = upload_name(upload, "file", default="predictions")
    printed = files.fingerprint(upload)
    sha256, input_format = printed.sha256, input_format_of(name, printed.head, printed.tail)
    request_sha256 = canonical_hash(
        {
            "file": sha256,
            "system": system.slug,
            "version": model_version.version,
            "kinds": sorted(kinds),
            "mapping": mapping,
            "options": options,
            "context": context,
        }
    )
    if (found := job_replayed(actor, idempotency_key, request_sha256)) is not None:
        return Created(found, created=False)
    written: list[str] = []
    try:
        with transaction.atomic():
            Organization.objects.select_for_update().get(pk=actor.organization_id)
            if (found := job_replayed(actor, idempotency_key, request_sha256)) is not None:
                return Created(found, created=False)
            blob = blob_store(
                organization_id=actor.organization_id,
                sha256=sha256,
                size=upload.size or 0,
                media_type=MEDIA_TYPES[input_format],
                upload=upload,
                written=written,
            )
            header = upload_header(upload, name, input_format)
            _check_mapping(kinds, mapping, header)
            _check_dataset(actor, kinds, options)
            given = {
                "kinds": kinds,
                "mapping": mapping,
                "options": options,
                "context": context,
                "idempotency_key": idempotency_key,
                "request_sha256": request_sha256,
            }
            job = job_record(actor, system, model_version, blob, name, input_format, given)
    except BaseException:
        for digest in written:
            files.remove(actor.organization_id, digest)
        raise
    return Created(job, created=True)


def upload_name(upload: files.Upload, field: str, *, default: str, limit: int | None = None) -> str:
    """The upload's base name; 413 when it is over `limit` bytes (default: the assessment
    file limit), before anything is read."""
    name = (upload.name or default).rsplit("/", 1)[-1][:255]
    limit = settings.RISKREG_ASSESSMENT_MAX_BYTES if limit is None else limit
    if (upload.size or 0) > limit:
        raise AttachmentTooLargeError(
            f"{field}: {name!r} is {upload.size} bytes; the limit is {limit}",
            extra={"name": name, "size": upload.size, "limit": limit},
        )
    return name


def upload_header(upload: files.Upload, name: str, input_format: str) -> list[str]:
    """The column names of an uploaded CSV or Parquet file; 400 on `file` when unreadable."""
    from evaluations.assessments.reading import read_header

    with upload_copy(upload) as path:
        try:
            return read_header(path, format="parquet" if input_format == "parquet" else "csv")
        except ValueError as exc:
            reason = str(exc).replace(str(path), name)  # never show where files live
            raise ValidationFailedError.for_field("file", reason) from exc


@contextmanager
def upload_copy(upload: files.Upload) -> Iterator[Path]:
    """A local file holding the upload's bytes: the one Django spooled it to, else a copy.

    The header is read from the upload itself, so that it costs no download when files
    live in an object store.
    """
    spooled = getattr(upload, "temporary_file_path", None)
    if callable(spooled):
        yield Path(spooled())
        return
    with tempfile.NamedTemporaryFile(prefix="riskreg-upload-") as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        yield Path(copy.name)


def job_replayed(actor: Actor, key: str | None, request_sha256: str) -> AssessmentJob | None:
    if key is None:
        return None
    earlier = AssessmentJob.objects.filter(
        organization_id=actor.organization_id, idempotency_key=key
    ).first()
    if earlier is not None and earlier.request_sha256 != request_sha256:
        raise IdempotencyConflictError(
            "Idempotency-Key: already used for a different file or request",
            extra={"idempotency_key": key},
        )
    return earlier


def job_record(
    actor: Actor,
    system: AISystem,
    model_version: ModelVersion,
    blob: Blob,
    name: str,
    input_format: str,
    given: dict[str, Any],
    *,
    model: dict[str, Any] | None = None,
) -> AssessmentJob:
    ref = actor.audit_ref()
    job = AssessmentJob(
        **(model or {}),
        organization_id=actor.organization_id,
        system=system,
        model_version=model_version,
        kinds=sorted(given["kinds"]),
        mapping=given["mapping"],
        options=given["options"],
        context=given["context"],
        input=blob,
        input_name=name,
        input_format=input_format,
        idempotency_key=given["idempotency_key"],
        request_sha256=given["request_sha256"],
        submitter_type=ref["type"],
        submitter_id=ref["id"],
        submitter_label=ref["label"],
    )
    job.full_clean()
    job.save()
    audit_append(
        actor=actor,
        action="assessment.create",
        object_type="assessment_job",
        object_id=job.uid,
        changes={
            "system": {"before": None, "after": system.slug},
            "model_version": {"before": None, "after": model_version.version},
            "kinds": {"before": None, "after": job.kinds},
            "input_sha256": {"before": None, "after": blob.sha256},
        }
        | ({"model_sha256": {"before": None, "after": model["model"].sha256}} if model else {}),
    )
    _enqueue_on_commit(job.pk)
    return job


def _enqueue_on_commit(job_id: int) -> None:
    from evaluations.tasks import assessment_run_task

    transaction.on_commit(lambda: assessment_run_task.delay(job_id))


# --- the worker's side -----------------------------------------------------------------


def _lease_until() -> Any:
    return timezone.now() + timedelta(seconds=settings.RISKREG_ASSESSMENT_LEASE_SECONDS)


@transaction.atomic
def assessment_job_claim(*, job_id: int, worker: str) -> AssessmentJob | None:
    """Take the job's lease for this delivery; None when there is nothing to run."""
    job = AssessmentJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.done:
        return None
    now = timezone.now()
    leased = job.lease_expires_at is not None and job.lease_expires_at > now
    if job.status == JobStatus.RUNNING and leased and job.lease_owner != worker:
        return None  # another worker holds it; this delivery is a duplicate
    job.deliveries += 1
    if job.deliveries > settings.RISKREG_ASSESSMENT_MAX_DELIVERIES:
        _end(job, JobStatus.FAILED, "too_many_deliveries", "Delivered too often; given up.")
        return None
    job.status, job.lease_owner, job.lease_expires_at = JobStatus.RUNNING, worker, _lease_until()
    job.started_at = job.started_at or now
    job.updated_at = now
    job.save(
        update_fields=[
            "deliveries",
            "status",
            "lease_owner",
            "lease_expires_at",
            "started_at",
            "updated_at",
        ]
    )
    return job


def assessment_job_progress(*, job_id: int, worker: str, progress: float) -> bool:
    """Renew the lease and record progress; False when the job was cancelled or taken over."""
    renewed = AssessmentJob.objects.filter(
        pk=job_id, status=JobStatus.RUNNING, lease_owner=worker
    ).update(
        progress=min(max(progress, 0.0), 1.0),
        lease_expires_at=_lease_until(),
        updated_at=timezone.now(),
    )
    return renewed == 1


def _end(job: AssessmentJob, status: str, code: str = "", message: str = "") -> None:
    job.status, job.error_code, job.message = status, code, message[:500]
    job.finished_at = job.updated_at = timezone.now()
    job.lease_owner, job.lease_expires_at = "", None
    if status == JobStatus.SUCCEEDED:
        job.progress = 1.0
    job.save(
        update_fields=[
            "status",
            "error_code",
            "message",
            "finished_at",
            "updated_at",
            "lease_owner",
            "lease_expires_at",
            "progress",
        ]
    )
    audit_append(
        actor=Actor.system(job.organization_id),
        action=f"assessment.{status}",
        object_type="assessment_job",
        object_id=job.uid,
        changes={"status": {"before": JobStatus.RUNNING, "after": status}}
        | ({"error_code": {"before": None, "after": code}} if code else {}),
    )


@transaction.atomic
def assessment_job_finish(
    *, job_id: int, worker: str, results: dict[str, dict[str, Any]]
) -> AssessmentJob | None:
    """Write each kind's evidence once and mark the job succeeded."""
    from evaluations.services.evidence import evidence_record_computed

    job = AssessmentJob.objects.select_for_update().get(pk=job_id)
    if job.done or job.lease_owner != worker:
        return None  # cancelled meanwhile, or another delivery took over
    for kind, metrics in results.items():
        evidence_record_computed(job=job, kind=kind, metrics=metrics)
    _end(job, JobStatus.SUCCEEDED, message=f"{len(results)} evidence item(s) written")
    from controls.services.updates import verdicts_request  # controls reads this app

    verdicts_request(
        organization_id=job.organization_id, system_id=job.system_id, cause="assessment", job=job
    )
    return job


@transaction.atomic
def assessment_job_fail(*, job_id: int, code: str, message: str) -> None:
    """End the job as failed with a stable error code; it is not delivered again."""
    job = AssessmentJob.objects.select_for_update().get(pk=job_id)
    if not job.done:
        _end(job, JobStatus.FAILED, code, message)


@transaction.atomic
def assessment_job_cancel(*, actor: Actor, job: AssessmentJob, reason: str = "") -> AssessmentJob:
    """Cancel a queued or running job; the worker notices at its next progress report."""
    job = AssessmentJob.objects.select_for_update().get(pk=job.pk)
    if job.done:
        raise JobFinishedError(
            f"status: assessment {job.uid} already {job.status}",
            extra={"field": "status", "status": job.status},
        )
    job.status, job.finished_at = JobStatus.CANCELLED, timezone.now()
    job.lease_owner, job.lease_expires_at, job.updated_at = "", None, job.finished_at
    job.message = (f"Cancelled by {actor.label}: {reason}" if reason else "Cancelled.")[:500]
    job.save(
        update_fields=[
            "status",
            "finished_at",
            "lease_owner",
            "lease_expires_at",
            "updated_at",
            "message",
        ]
    )
    audit_append(
        actor=actor,
        action="assessment.cancel",
        object_type="assessment_job",
        object_id=job.uid,
        changes={"status": {"before": "active", "after": JobStatus.CANCELLED}},
    )
    return job


def assessment_jobs_sweep() -> list[int]:
    """Re-enqueue jobs whose lease expired, and queued jobs no worker picked up; the parts
    of split jobs are swept too (`chunks.assessment_chunks_sweep`)."""
    from evaluations.services.chunks import assessment_chunks_sweep

    now = timezone.now()
    stale_queued = now - timedelta(seconds=settings.RISKREG_ASSESSMENT_LEASE_SECONDS)
    expired = AssessmentJob.objects.filter(
        status=JobStatus.RUNNING, lease_expires_at__lt=now
    ) | AssessmentJob.objects.filter(status=JobStatus.QUEUED, updated_at__lt=stale_queued)
    ids = list(expired.values_list("pk", flat=True))
    for job_id in ids:
        with transaction.atomic():
            job = AssessmentJob.objects.select_for_update().get(pk=job_id)
            if job.done:
                continue
            job.updated_at = now
            job.save(update_fields=["updated_at"])
            log.warning("assessment job %s: lease expired or never picked up; re-enqueued", job_id)
            _enqueue_on_commit(job_id)
    assessment_chunks_sweep()
    return ids


class _StopError(Exception):
    """The job was cancelled, or another delivery took it over: stop quietly."""


class _LeaseKeeper:
    """Renews the job's lease from a thread while the engines run.

    Progress callbacks come only between chunks; a long step (a bootstrap) would otherwise
    outlive the lease and invite a second delivery. When a renewal finds the job cancelled
    or taken over, `lost` is set and the next progress callback stops the run.
    """

    def __init__(
        self,
        job_id: int,
        worker: str,
        *,
        renew: Callable[[float], bool] | None = None,
        progress: float = 0.0,
        name: str = "",
    ) -> None:
        self.job_id, self.worker = job_id, worker
        self.progress = progress
        self.lost = threading.Event()
        self._renew = renew or self._renew_job
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=name or f"lease-{job_id}", daemon=True
        )

    def _renew_job(self, progress: float) -> bool:
        return assessment_job_progress(job_id=self.job_id, worker=self.worker, progress=progress)

    def _run(self) -> None:
        from django.db import close_old_connections

        every = max(settings.RISKREG_ASSESSMENT_LEASE_SECONDS / 3, 0.2)
        try:
            while not self._stop.wait(every):
                if not self._renew(self.progress):
                    self.lost.set()
                    return
        except Exception:  # the lease then simply runs out; the sweep takes over
            log.exception("assessment job %s: lease renewal failed", self.job_id)
        finally:
            close_old_connections()

    def report(self, fraction: float) -> None:
        if self.lost.is_set():
            raise _StopError
        self.progress = fraction

    def __enter__(self) -> "_LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def run_on_input(job: AssessmentJob, work: Callable[[Path], R]) -> R:
    """`work` on a local copy of the job's input, under the job's memory budget.

    A refusal of the input (ValueError) names the file as uploaded, never where it lies.
    """
    from riskreg.lib.memlimit import memory_budget

    with blobstore.local_copy(job.organization_id, job.input.sha256) as path:
        try:
            with memory_budget(settings.RISKREG_ASSESSMENT_MEMORY_BYTES):
                return work(path)
        except ValueError as exc:
            raise ValueError(str(exc).replace(str(path), job.input_name)) from exc


def run_guarded(job_id: int, keeper: _LeaseKeeper, work: Callable[[], R]) -> R | None:
    """Run `work` while `keeper` holds the lease; on a failure end the job failed with its
    code and return None; on a stop (cancelled, taken over) return None quietly."""
    from celery.exceptions import SoftTimeLimitExceeded

    try:
        with keeper:
            return work()
    except _StopError:
        log.info("assessment job %s stopped: cancelled or taken over", job_id)
        return None
    except MemoryError:
        failure = (
            "memory_limit_exceeded",
            "The job needed more memory than RISKREG_ASSESSMENT_MEMORY_BYTES allows.",
        )
    except SoftTimeLimitExceeded:
        failure = ("time_limit_exceeded", "The job ran out of time.")
    except ModelRefusedError as exc:  # an uploaded model only running could refuse
        failure = (exc.code, exc.message)
    except ValueError as exc:  # the engines' and the reader's refusals of the input
        failure = ("invalid_input", str(exc))
    except Exception:  # never crash the worker, never leave the job running
        log.exception("assessment job %s failed", job_id)
        failure = ("internal_error", "An internal error; the worker's log has the details.")
    assessment_job_fail(job_id=job_id, code=failure[0], message=failure[1])
    return None


def _plan_or_compute(
    job: AssessmentJob, worker: str, keeper: _LeaseKeeper, path: Path
) -> dict[str, dict[str, Any]] | None:
    """None when the file was split into parts (queued for the workers), else the results."""
    from evaluations.assessments.pipeline import compute  # imported already: no allocation
    from evaluations.services.chunks import assessment_job_plan

    if job.model_id is not None:
        from evaluations.services.model_jobs import model_job_compute

        return model_job_compute(job, path, keeper.report)
    if assessment_job_plan(job=job, worker=worker, path=path):
        return None
    return compute(
        path,
        format=job.input_format,
        kinds=list(job.kinds),
        mapping=dict(job.mapping),
        options=dict(job.options),
        on_progress=keeper.report,
    )


def assessment_run(*, job_id: int, worker: str) -> None:
    """Claim the job, run the engines over the file (or split it into parts for the
    workers), and write the results or the failure."""
    # numpy, pyarrow and pandas are imported here, outside the job's memory budget.
    from evaluations.assessments import pipeline  # noqa: F401 - imported for that alone
    from evaluations.services import chunks

    if chunks.assessment_job_chunked(job_id=job_id):
        chunks.assessment_chunks_merge(job_id=job_id, worker=worker)
        return
    job = assessment_job_claim(job_id=job_id, worker=worker)
    if job is None:
        return
    keeper = _LeaseKeeper(job_id, worker)
    results = run_guarded(
        job_id,
        keeper,
        lambda: run_on_input(job, lambda path: _plan_or_compute(job, worker, keeper, path)),
    )
    if results is None:
        return
    if keeper.lost.is_set():
        log.info("assessment job %s stopped: cancelled or taken over", job_id)
        return
    assessment_job_finish(job_id=job_id, worker=worker, results=results)
