"""Robustness and efficiency jobs: an uploaded model and its evaluation data become evidence.

The model is untrusted content (DESIGN.md, "Never execute what users upload"): the web
process reads only what refusing it needs — its format by content, the ONNX graph's rules
or the architecture's and the weights' names and shapes (`modelfiles.inspect`), and the
evaluation file's header against the model's input — and refuses with 400 `model_refused`
(`extra.reason` the rule) before anything is stored. The worker loads it (our own ONNX
interpreter, onnxruntime, or the declarative architecture) and runs the engine; whatever
only running shows ends the job failed with the same reason as its error code.

Jobs share the predictions jobs' life: leases, deliveries, the sweep, cancelling and
exactly-once results (`evaluations.services.assessments`); they are never split into parts.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from evaluations import attachments as files
from evaluations import blobstore
from evaluations.errors import ModelFileRefusedError
from evaluations.models import AssessmentJob, AssessmentKind, Blob
from evaluations.services.assessments import (
    MEDIA_TYPES,
    Created,
    input_format_of,
    job_record,
    job_replayed,
    upload_header,
    upload_name,
)
from evaluations.services.storage import blob_store
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.lib.errors import ValidationFailedError
from riskreg.lib.hashing import canonical_hash
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import Organization

MODEL_KINDS = (AssessmentKind.ROBUSTNESS, AssessmentKind.EFFICIENCY)
MODEL_MEDIA_TYPE = "application/octet-stream"
ARCHITECTURE_MEDIA_TYPE = "application/json"
ARCHITECTURE_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelUpload:
    """The model file and, for safetensors weights, its architecture JSON."""

    model: files.Upload
    architecture: files.Upload | None = None


def _read(upload: files.Upload, field: str, limit: int) -> tuple[str, bytes]:
    """The upload's name and bytes (read whole: a model is inspected whole)."""
    name = upload_name(upload, field, default=field, limit=limit)
    return name, b"".join(upload.chunks())


def _refused(field: str, exc: Exception) -> ModelFileRefusedError:
    code = getattr(exc, "code", "model_invalid")
    message = getattr(exc, "message", str(exc))
    return ModelFileRefusedError(f"{field}: {message}", extra={"reason": code, "field": field})


def model_job_create(
    *,
    actor: Actor,
    system: AISystem,
    model_version: ModelVersion,
    model: ModelUpload,
    upload: files.Upload,
    kind: str,
    mapping: dict[str, Any],
    options: dict[str, Any],
    context: str = "evaluation",
    idempotency_key: str | None = None,
) -> Created:
    """Check the model and the evaluation file's header against it, store both, queue the
    job. Nothing is stored when anything is refused."""
    from evaluations.assessments.model_inputs import check_columns
    from evaluations.assessments.modelfiles.errors import ModelRefusedError
    from evaluations.assessments.modelfiles.inspect import inspect_model

    if kind not in MODEL_KINDS:
        raise ValidationFailedError.for_field("kinds", f"{kind!r} is not computed from a model")
    model_name, model_bytes = _read(model.model, "model", settings.RISKREG_MODEL_MAX_BYTES)
    architecture = (
        _read(model.architecture, "architecture", ARCHITECTURE_MAX_BYTES)[1]
        if model.architecture is not None
        else None
    )
    try:
        summary = inspect_model(model_bytes, architecture=architecture)
    except ModelRefusedError as exc:
        field = "architecture" if exc.code == "architecture_invalid" and architecture else "model"
        raise _refused(field, exc) from None
    name = upload_name(upload, "file", default="evaluation")
    printed = files.fingerprint(upload)
    input_format = input_format_of(name, printed.head, printed.tail)
    header = upload_header(upload, name, input_format)
    try:
        check_columns(
            header,
            input_shape=summary.input_shape,
            label=mapping.get("label"),
            features=mapping.get("features"),
        )
    except ModelRefusedError as exc:
        raise _refused("file", exc) from None
    except ValueError as exc:
        raise ValidationFailedError.for_field("mapping", str(exc)) from exc
    request_sha256 = canonical_hash(
        {
            "file": printed.sha256,
            "model": _sha256(model_bytes),
            "architecture": _sha256(architecture) if architecture is not None else None,
            "system": system.slug,
            "version": model_version.version,
            "kinds": [kind],
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
            store = _Store(actor.organization_id, written)
            evaluation = store.upload(upload, printed.sha256, MEDIA_TYPES[input_format])
            stored_model = store.content(model_bytes, MODEL_MEDIA_TYPE)
            stored_architecture = (
                store.content(architecture, ARCHITECTURE_MEDIA_TYPE) if architecture else None
            )
            given = {
                "kinds": [kind],
                "mapping": mapping,
                "options": options,
                "context": context,
                "idempotency_key": idempotency_key,
                "request_sha256": request_sha256,
            }
            job = job_record(actor, system, model_version, evaluation, name, input_format, given,
                       model={"model": stored_model, "model_format": summary.format,
                              "model_name": model_name,
                              "architecture": stored_architecture})  # fmt: skip
    except BaseException:
        for digest in written:
            files.remove(actor.organization_id, digest)
        raise
    return Created(job, created=True)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Store:
    """Blobs written inside the job's transaction; new files are listed for cleanup."""

    def __init__(self, organization_id: int, written: list[str]) -> None:
        self.organization_id = organization_id
        self.written = written

    def upload(self, upload: files.Upload, sha256: str, media_type: str) -> Blob:
        return blob_store(
            organization_id=self.organization_id, sha256=sha256, size=upload.size or 0,
            media_type=media_type, upload=upload, written=self.written,
        )  # fmt: skip

    def content(self, data: bytes, media_type: str) -> Blob:
        return self.upload(_BytesUpload(data), _sha256(data), media_type)


class _BytesUpload:
    """Bytes already read (the model was read whole to inspect it), as an Upload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.name: str | None = "model"
        self.size: int | None = len(data)
        self.content_type: str | None = MODEL_MEDIA_TYPE

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        step = chunk_size or (1 << 20)
        for start in range(0, len(self.data), step):
            yield self.data[start : start + step]


# --- the worker's side -----------------------------------------------------------------


def model_job_compute(job: AssessmentJob, path: Any, report: Any) -> dict[str, dict[str, Any]]:
    """Load the job's model, read its evaluation data, run the engine: {kind: metrics}.

    Raises ModelRefusedError (the job fails with its code) or ValueError (invalid_input).
    """
    from evaluations.assessments.model_inputs import read_model_inputs
    from evaluations.assessments.modelfiles import load_model
    from evaluations.assessments.modelfiles.loading import limit_threads

    assert job.model is not None  # only model jobs come here
    limit_threads(settings.RISKREG_TORCH_THREADS)
    data = blobstore.read_bytes(job.organization_id, job.model.sha256)
    architecture = (
        blobstore.read_bytes(job.organization_id, job.architecture.sha256)
        if job.architecture is not None
        else None
    )
    loaded = load_model(data, architecture=architecture)
    options = dict(job.options)
    mapping = dict(job.mapping)
    inputs = read_model_inputs(
        path,
        input_shape=loaded.input_shape,
        label=mapping.get("label"),
        features=mapping.get("features"),
        max_rows=int(options.get("max_rows") or settings.RISKREG_MODEL_EVALUATION_MAX_ROWS),
        format="parquet" if job.input_format == "parquet" else "csv",
    )
    kind = job.kinds[0]
    if kind == AssessmentKind.ROBUSTNESS:
        return {kind: _robustness(loaded, inputs, options, report)}
    return {kind: _efficiency(loaded, inputs, options, report)}


def _robustness(loaded: Any, inputs: Any, options: dict[str, Any], report: Any) -> dict[str, Any]:
    from evaluations.assessments.robustness import robustness_metrics

    if inputs.y is None:
        raise ValueError("mapping.label: robustness needs the label column")
    chosen: dict[str, Any] = {
        name: options[name]
        for name in (
            "linf_budgets", "l2_budgets", "pgd_steps", "noise_severities",
            "dropout_severities", "immutable_features", "batch_size", "seed",
        )
        if name in options
    }  # fmt: skip
    if options.get("input_bounds") is not None:
        low, high = options["input_bounds"]
        chosen["input_bounds"] = (float(low), float(high))
    return robustness_metrics(loaded, inputs.x, inputs.y, progress=report, **chosen)


def _efficiency(loaded: Any, inputs: Any, options: dict[str, Any], report: Any) -> dict[str, Any]:
    from evaluations.assessments.efficiency import efficiency_metrics

    chosen = {
        name: options[name]
        for name in ("batch_sizes", "repeats", "warmup", "power_watts", "grid_gco2e_per_kwh")
        if options.get(name) is not None
    }
    return efficiency_metrics(loaded, inputs.x, progress=report, **chosen)
