"""``Client``: riskreg from Python — a notebook, a CI script, or the ``riskreg`` command.

Every write carries an Idempotency-Key derived from what is sent (the canonical document, the
attachments' and files' SHA-256 and the options), so a CI job that runs twice gets its
original items back instead of recording them again.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from riskreg_client import __version__
from riskreg_client.errors import (
    ConflictError,
    InvalidInputError,
    JobFailedError,
    UsageError,
    WaitTimeoutError,
)
from riskreg_client.gate import Outcome, outcomes
from riskreg_client.hashing import canonical_hash, idempotency_key
from riskreg_client.provenance import ci_provenance
from riskreg_client.transport import Transport

JOB_ENDED = ("succeeded", "failed", "cancelled")
_BLOCK = 1 << 20


@dataclass
class Submission:
    """What a write returned: evidence items, or an assessment job and (once done) its items."""

    items: list[dict[str, Any]] = field(default_factory=list)
    job: dict[str, Any] | None = None
    replayed: bool = False
    affected: list[dict[str, Any]] = field(default_factory=list)
    system: str | None = None
    model_version: str | None = None

    @property
    def urls(self) -> list[str]:
        return [self.job["url"]] if self.job else [i["url"] for i in self.items]

    @property
    def item_ids(self) -> list[str]:
        return [str(i["id"]) for i in self.items]

    def as_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "job": self.job,
            "replayed": self.replayed,
            "affected": self.affected,
        }


class Client:
    """A riskreg server and an API token (default: ``RISKREG_URL`` and ``RISKREG_TOKEN``)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        transport: Transport | None = None,
    ) -> None:
        self.transport = transport or Transport(
            url or os.environ.get("RISKREG_URL", ""),
            token or os.environ.get("RISKREG_TOKEN", ""),
            timeout=timeout,
            retries=retries,
        )
        self._schemas: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        """Close the HTTP connections (a ``with Client(...) as client:`` block does it)."""
        self.transport.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Reading.

    def schemas(self) -> dict[str, Any]:
        """The index of evidence kinds with their current schema versions."""
        index: dict[str, Any] = self.transport.request(
            "GET", "evidence/schemas/", what="list schemas"
        )
        return index

    def schema(self, kind: str) -> dict[str, Any]:
        """The JSON Schema of ``kind`` as the server validates it (cached)."""
        if kind not in self._schemas:
            self._schemas[kind] = self.transport.request(
                "GET", f"evidence/schemas/{kind}/", what=f"read the {kind} schema"
            )
        return self._schemas[kind]

    def status(self, url: str) -> dict[str, Any]:
        """An evidence item or assessment job by its URL."""
        found: dict[str, Any] = self.transport.request("GET", url, what=f"read {url}")
        return found

    def posture(self, system: str) -> dict[str, Any]:
        """The system's 72 verdicts (``GET /systems/{slug}/posture/``)."""
        found: dict[str, Any] = self.transport.request(
            "GET", f"systems/{system}/posture/", what=f"read the posture of {system}"
        )
        return found

    # Checking.

    def validate(self, document: Mapping[str, Any]) -> None:
        """Check ``document`` against its kind's schema; InvalidInputError lists every problem."""
        kind = document.get("kind")
        if not isinstance(kind, str):
            raise InvalidInputError("the document has no kind", problems=[("/kind", "required")])
        schema = self.schema(kind)
        version = schema.get("properties", {}).get("schema_version", {}).get("const", "1.0")
        # What the server fills in when left out (docs/evidence.md, "The envelope").
        filled = {"schema_version": version, **document}
        if kind != "document":
            filled.setdefault("context", "evaluation")
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()
        )
        problems = sorted(
            ("/" + "/".join(str(p) for p in error.absolute_path), error.message)
            for error in validator.iter_errors(filled)
        )
        if problems:
            first = f"{problems[0][0] or '/'}: {problems[0][1]}"
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InvalidInputError(
                f"the {kind} document breaks its schema: {first}{more}",
                code="evidence_invalid",
                problems=problems,
            )

    # Writing.

    def register_model_version(
        self,
        system: str,
        version: str,
        *,
        parent: str | None = None,
        artifact: Path | None = None,
        status: str | None = None,
        framework: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Register a model version (the artifact's SHA-256 recorded); (version, created).

        Registering the same version again is not an error when nothing contradicts the
        recorded one, so a CI job may register on every run.
        """
        body: dict[str, Any] = {"version": version}
        if parent:
            body["parent"] = parent
        if status:
            body["status"] = status
        if framework:
            body["framework"] = framework
        if artifact is not None:
            body["artifact_sha256"] = file_sha256(artifact)
        path = f"systems/{system}/model-versions/"
        try:
            created = self.transport.request(
                "POST", path, json=body, what=f"register {system} {version}"
            )
        except ConflictError as exc:
            if exc.code != "version_taken":
                raise
            existing: dict[str, Any] = self.transport.request(
                "GET", f"{path}{version}/", what=f"read {system} {version}"
            )
            _same_version(existing, body)
            return existing, False
        return created, True

    def submit(
        self,
        document: Mapping[str, Any] | Path | str,
        *,
        system: str | None = None,
        model_version: str | None = None,
        kind: str | None = None,
        format: str | None = None,
        context: str | None = None,
        attachments: Sequence[Path] = (),
        provenance: Mapping[str, Any] | None = None,
        validate: bool = True,
    ) -> Submission:
        """Submit one evidence document (or, with ``format``, another tool's results file).

        ``document`` is a dict or a JSON file; ``system``, ``model_version``, ``kind`` and
        ``context`` fill in what the document leaves out (a different value is an error).
        """
        prov = {
            "tool_name": "riskreg-client",
            "tool_version": __version__,
            **ci_provenance(),
            **(provenance or {}),
        }
        if format is not None:
            return self._import(document, format, system, model_version, context, prov)
        doc = _completed(
            _loaded(document), system=system, model_version=model_version, kind=kind,
            context=context,
        )  # fmt: skip
        if validate:
            self.validate(doc)
        files = [_file_part(path) for path in attachments]
        shas = [hashlib.sha256(part[1][1]).hexdigest() for part in files]
        key = (
            idempotency_key(doc)
            if not shas
            else idempotency_key({"document": doc, "attachments": shas})
        )
        headers = {"Idempotency-Key": key}
        what = f"submit the {doc['kind']} document"
        if files:
            data = {"document": json.dumps(doc), "provenance": json.dumps(prov)}
            body = self.transport.request(
                "POST", "evidence/", data=data, files=files, headers=headers, what=what
            )
        else:
            body = self.transport.request(
                "POST", "evidence/", json={"document": doc, "provenance": prov},
                headers=headers, what=what,
            )  # fmt: skip
        return Submission(
            items=list(body["items"]),
            replayed=self.transport.last_status == 200,
            system=doc.get("system"),
            model_version=doc.get("model_version"),
        )

    def _import(
        self,
        source: Mapping[str, Any] | Path | str,
        format: str,
        system: str | None,
        model_version: str | None,
        context: str | None,
        prov: Mapping[str, Any],
    ) -> Submission:
        if not system:
            raise UsageError("an import needs --system")
        payload: Any = source if isinstance(source, Mapping) else _read_payload(Path(source))
        envelope = {"system": system, "model_version": model_version}
        if context:
            envelope["context"] = context
        sent = {"format": format, "payload": payload, "envelope": envelope}
        body = self.transport.request(
            "POST", "evidence/", json={**sent, "provenance": dict(prov)},
            headers={"Idempotency-Key": idempotency_key(sent)}, what=f"import {format}",
        )  # fmt: skip
        return Submission(
            items=list(body["items"]),
            replayed=self.transport.last_status == 200,
            system=system,
            model_version=model_version,
        )

    def assess(
        self,
        path: Path | str,
        *,
        system: str,
        model_version: str,
        label: str,
        prediction: str | None = None,
        score: str | None = None,
        sensitive: Sequence[str] = (),
        kinds: Sequence[str] = ("fairness",),
        split: str | None = None,
        pos_label: str | None = None,
        options: Mapping[str, Any] | None = None,
        context: str = "evaluation",
    ) -> Submission:
        """Upload a predictions file (CSV or Parquet) for riskreg's workers to assess.

        ``options`` are the job's (``bins``, ``strategy``, ``n_boot``, ``seed``,
        ``min_group_size``, ``level``, ``dataset``); see docs/assessments.md.
        """
        file = Path(path)
        mapping: dict[str, Any] = {"label": label, "sensitive": list(sensitive)}
        for role, column in (("prediction", prediction), ("score", score), ("split", split)):
            if column:
                mapping[role] = column
        if pos_label is not None:
            mapping["pos_label"] = pos_label
        chosen = dict(options or {})
        request = {
            "file": file_sha256(file),
            "system": system,
            "model_version": model_version,
            "kinds": sorted(kinds),
            "mapping": mapping,
            "options": chosen,
            "context": context,
        }
        data: dict[str, Any] = {
            "system": system,
            "model_version": model_version,
            "kinds": list(kinds),
            "mapping": json.dumps(mapping),
            "options": json.dumps(chosen),
            "context": context,
        }
        job = self.transport.request(
            "POST", "assessments/", data=data, files=[_file_part(file, field="file")],
            headers={"Idempotency-Key": "rr-" + canonical_hash(request)},
            what=f"upload {file.name} for assessment",
        )  # fmt: skip
        return Submission(
            job=job,
            replayed=self.transport.last_status == 200,
            system=system,
            model_version=model_version,
        )

    def log_metricframe(
        self, mf: Any, *, system: str, model_version: str | None, **options: Any
    ) -> Submission:
        """Submit a fairlearn MetricFrame (with ``count`` among its metrics) as a
        ``fairness`` document; ``options`` as for ``metricframe_document``."""
        from riskreg_client.metricframe import metricframe_document

        return self.submit(
            metricframe_document(mf, system=system, model_version=model_version, **options)
        )

    # Waiting.

    def wait(
        self,
        submission: Submission,
        *,
        timeout: float = 900.0,
        interval: float = 2.0,
        progress: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Submission:
        """Poll until the job (if any) has ended and every verdict update is done.

        Raises JobFailedError for a failed or cancelled job, WaitTimeoutError past timeout.
        """
        deadline = clock() + timeout
        while True:
            current = self._refresh(submission)
            if progress is not None and current.job is not None:
                progress(current.job)
            if current.job is not None and current.job["status"] in ("failed", "cancelled"):
                job = current.job
                reason = job.get("message") or job.get("error_code") or job["status"]
                raise JobFailedError(
                    f"assessment {job['id']} {job['status']}: {reason}",
                    code=str(job.get("error_code") or ""),
                )
            updates = _updates(current)
            if updates is not None and all(u["state"] == "done" for u in updates):
                current.affected = [a for u in updates for a in u.get("affected", [])]
                return current
            if clock() >= deadline:
                what = current.job["url"] if current.job else ", ".join(current.urls)
                raise WaitTimeoutError(f"gave up waiting after {timeout:g} s for {what}")
            sleep(interval)

    def outcomes(self, submission: Submission) -> list[Outcome]:
        """The subcategories a finished submission bears on (see ``riskreg_client.gate``)."""
        posture = self.posture(submission.system) if submission.system else None
        return outcomes(
            submission.affected,
            posture,
            items=submission.item_ids,
            model_version=submission.model_version,
        )

    def _refresh(self, submission: Submission) -> Submission:
        if submission.job is not None:
            job = self.status(submission.job["url"])
            items = [self.status(e["url"]) for e in job.get("evidence") or []]
            return Submission(
                items=items, job=job, replayed=submission.replayed,
                system=submission.system, model_version=submission.model_version,
            )  # fmt: skip
        items = [self.status(item["url"]) for item in submission.items]
        return Submission(
            items=items, replayed=submission.replayed,
            system=submission.system, model_version=submission.model_version,
        )  # fmt: skip


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while block := stream.read(_BLOCK):
                digest.update(block)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _updates(submission: Submission) -> list[dict[str, Any]] | None:
    """The verdict updates to wait for; None while there is nothing to read yet."""
    if submission.job is not None:
        if submission.job["status"] != "succeeded":
            return None
        update = submission.job.get("verdict_update")
        return [update] if update else None
    return [i["verdict_update"] for i in submission.items if i.get("verdict_update")]


def _loaded(document: Mapping[str, Any] | Path | str) -> dict[str, Any]:
    if isinstance(document, Mapping):
        return dict(document)
    path = Path(document)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InvalidInputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InvalidInputError(f"{path} must hold one JSON object (an evidence document)")
    return loaded


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _completed(doc: dict[str, Any], **given: str | None) -> dict[str, Any]:
    """Fill in what the document leaves out; refuse a flag that contradicts it."""
    for name, value in given.items():
        if value is None:
            continue
        if name in doc and doc[name] != value:
            raise UsageError(
                f"--{name.replace('_', '-')} {value} contradicts the document's "
                f"{name} {doc[name]!r}"
            )
        doc[name] = value
    return doc


def _read_payload(path: Path) -> Any:
    """Another tool's results file: JSON, or text (a model card's README)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() in (".md", ".markdown", ".txt"):
        return text
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise InvalidInputError(f"{path} is not valid JSON: {exc}") from exc


def _file_part(path: Path, *, field: str = "attachments") -> tuple[str, tuple[str, bytes, str]]:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return field, (path.name, content, media_type)


def _same_version(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    for name in ("artifact_sha256", "parent"):
        if name in wanted and existing.get(name) not in (wanted[name], "", None):
            raise ConflictError(
                f"{existing.get('system')} {existing.get('version')} is already registered "
                f"with {name} {existing.get(name)}, not {wanted[name]}",
                status=409,
                code="version_taken",
            )
