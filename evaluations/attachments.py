"""Attachment checks and content-addressed storage.

Files live under <organisation id>/<sha[:2]>/<sha> in the store (`evaluations.blobstore`):
RISKREG_ATTACHMENTS_DIR by default, written to a temporary name and renamed into place so
a reader never sees half a file, or an S3-compatible bucket (RISKREG_STORAGE_URL). Which
types are accepted, and how their first bytes must look, is an allow-list: a declared PDF
must start like one, a declared text file must be UTF-8 without NUL bytes and must not look
like HTML or SVG (which browsers would run).
"""

import codecs
import hashlib
import mimetypes
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

from evaluations import blobstore
from evaluations.errors import AttachmentTooLargeError, AttachmentTypeRefusedError

ZIP = (b"PK\x03\x04",)
BINARY_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ZIP,
    "application/gzip": (b"\x1f\x8b",),
}
# Text types whose content browsers would not execute.
PLAIN_TEXT = frozenset(
    {"text/plain", "text/markdown", "text/csv", "application/json", "application/yaml"}
)
# Accepted, but only ever served as application/octet-stream downloads.
ACTIVE_TEXT = frozenset({"text/html", "image/svg+xml"})
ACCEPTED = frozenset(BINARY_SIGNATURES) | PLAIN_TEXT | ACTIVE_TEXT
ALIASES = {"text/x-markdown": "text/markdown", "application/x-yaml": "application/yaml"}
EXTRA_EXTENSIONS = {".md": "text/markdown", ".yaml": "application/yaml", ".yml": "application/yaml"}


class Upload(Protocol):
    """What services need of an uploaded file (Django's UploadedFile has it)."""

    name: str | None
    size: int | None
    content_type: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    sha256: str
    size: int
    media_type: str
    upload: Upload


def declared_type(name: str, content_type: str | None) -> str:
    """The type the client declared, else the one its file name implies."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        suffix = Path(name).suffix.lower()
        declared = EXTRA_EXTENSIONS.get(suffix) or mimetypes.guess_type(name)[0] or ""
    return ALIASES.get(declared, declared)


def _looks_active(head: bytes) -> bool:
    text = head[:1024].lstrip().lower()
    return text.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml")) or (b"<script" in text)


def check_content(media_type: str, head: bytes, name: str) -> None:
    """Refuse a type outside the allow-list, or content whose first bytes contradict it."""
    if media_type not in ACCEPTED:
        raise AttachmentTypeRefusedError(
            f"attachments: {name!r} has type {media_type or 'unknown'!r}, which is not accepted",
            extra={"name": name, "media_type": media_type, "accepted": sorted(ACCEPTED)},
        )
    signatures = BINARY_SIGNATURES.get(media_type)
    if signatures is not None:
        ok = head.startswith(signatures)
    else:
        ok = b"\x00" not in head and (media_type in ACTIVE_TEXT or not _looks_active(head))
    if not ok:
        raise AttachmentTypeRefusedError(
            f"attachments: the content of {name!r} does not match its type {media_type!r}",
            extra={"name": name, "media_type": media_type},
        )


def _is_utf8(upload: Upload) -> bool:
    # Incremental, so a multi-byte character split across chunks is not a false alarm.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in upload.chunks():
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    head: bytes  # the first 4 KiB, for magic bytes and text checks
    tail: bytes  # the last 8 bytes (Parquet ends with PAR1)


def fingerprint(upload: Upload) -> Fingerprint:
    """SHA-256, first and last bytes of an upload, in one pass over its chunks."""
    digest, head, tail = hashlib.sha256(), b"", b""
    for chunk in upload.chunks():
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
        tail = (tail + chunk)[-8:]
        digest.update(chunk)
    return Fingerprint(digest.hexdigest(), head, tail)


def check_upload(upload: Upload, *, max_bytes: int | None = None) -> CheckedUpload:
    """Size, type and magic-byte checks; the SHA-256 of the bytes."""
    name = Path(upload.name or "attachment").name[:255]
    limit = max_bytes if max_bytes is not None else settings.RISKREG_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise AttachmentTooLargeError(
            f"attachments: {name!r} is {size} bytes; the limit is {limit}",
            extra={"name": name, "size": size, "limit": limit},
        )
    media_type = declared_type(name, upload.content_type)
    found = fingerprint(upload)
    check_content(media_type, found.head, name)
    if media_type not in BINARY_SIGNATURES and not _is_utf8(upload):
        raise AttachmentTypeRefusedError(
            f"attachments: {name!r} is declared {media_type!r} but is not UTF-8 text",
            extra={"name": name, "media_type": media_type},
        )
    return CheckedUpload(name, found.sha256, size, media_type, upload)


def served_type(media_type: str) -> str:
    """The Content-Type a download carries: never one a browser would execute."""
    if media_type in ACTIVE_TEXT or media_type not in ACCEPTED:
        return "application/octet-stream"
    if media_type.startswith("text/"):
        return f"{media_type}; charset=utf-8"
    return media_type


def root() -> Path:
    """The local store's folder (files are there only when no RISKREG_STORAGE_URL is set)."""
    return Path(settings.RISKREG_ATTACHMENTS_DIR)


def path_for(organization_id: int, sha256: str) -> Path:
    """Where the local store keeps a file; read stored files through `blobstore`."""
    return root() / blobstore.name_for(organization_id, sha256)


def store(organization_id: int, sha256: str, chunks: Iterable[bytes]) -> Path:
    """Write the bytes under their hash, whole or not at all, in the configured store.

    Returns `path_for` the file, which holds it only in the local store.
    """
    blobstore.store(organization_id, sha256, chunks)
    return path_for(organization_id, sha256)


def remove(organization_id: int, sha256: str) -> None:
    """Remove the file from the configured store (nothing happens when it is not there)."""
    blobstore.remove(organization_id, sha256)
