"""Report PDFs on disk: stored once under their SHA-256, per organisation, never rewritten.

`RISKREG_REPORTS_DIR/<organisation id>/<sha[:2]>/<sha>.pdf`, written to a temporary name,
fsynced and renamed, so that a reader never sees half a file.
"""

import hashlib
from pathlib import Path

from django.conf import settings

from riskreg.lib.files import write_atomically


def _path(organization_id: int, sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    root = Path(settings.RISKREG_REPORTS_DIR)
    return root / str(int(organization_id)) / sha256[:2] / f"{sha256}.pdf"


def pdf_store(organization_id: int, data: bytes) -> str:
    """Store the bytes (once) and return their SHA-256."""
    sha256 = hashlib.sha256(data).hexdigest()
    target = _path(organization_id, sha256)
    if target.exists():
        return sha256
    write_atomically(target, [data])
    return sha256


def pdf_read(organization_id: int, sha256: str) -> bytes:
    """The stored bytes; raises ValueError when they no longer hash to sha256."""
    data = _path(organization_id, sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"stored report {sha256} was altered on disk")
    return data
