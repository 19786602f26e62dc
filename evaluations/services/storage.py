"""Housekeeping of the attachment store: files that no row owns.

A submission removes the files it wrote when its transaction fails. A process killed
between writing a file and committing, or a caller's outer transaction rolled back later,
leaves a file no Blob row names; the sweep removes those once they are old enough that no
transaction still in flight can own them.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from evaluations import attachments as files
from evaluations.models import Blob

log = logging.getLogger(__name__)


def blob_store(
    *,
    organization_id: int,
    sha256: str,
    size: int,
    media_type: str,
    upload: files.Upload,
    written: list[str],
) -> Blob:
    """The organisation's Blob row for these bytes, with the file on disk.

    Runs inside the caller's transaction. A file this call brought into being is added to
    `written`, so that the caller can remove it again if the transaction fails; a file an
    existing row already owns is never listed.
    """
    blob = Blob.objects.filter(organization_id=organization_id, sha256=sha256).first()
    existed = files.path_for(organization_id, sha256).exists()
    if blob is not None and existed:
        return blob
    files.store(organization_id, sha256, upload.chunks())
    if blob is not None:
        return blob
    if not existed:
        # A file no row owned (left by a process killed before its commit) is the sweep's
        # to remove, not this call's: it did not bring it into being.
        written.append(sha256)
    blob = Blob(organization_id=organization_id, sha256=sha256, size=size, media_type=media_type)
    blob.full_clean()
    blob.save()
    return blob


@dataclass(frozen=True)
class SweepReport:
    kept: int
    removed: list[str]


def _owned(organization_id: int, names: list[str]) -> set[str]:
    rows = Blob.objects.filter(organization_id=organization_id, sha256__in=names)
    return set(rows.values_list("sha256", flat=True))


def attachment_sweep(*, older_than: timedelta = timedelta(hours=1)) -> SweepReport:
    """Remove stored files (and abandoned temporary files) that no Blob row names."""
    cutoff = time.time() - older_than.total_seconds()
    kept, removed = 0, []
    root = files.root()
    if not root.exists():
        return SweepReport(kept=0, removed=[])
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        paths = [p for p in folder.glob("*/*") if p.is_file()]
        owned = _owned(int(folder.name), [p.name for p in paths])
        for path in paths:
            if path.name in owned or path.stat().st_mtime > cutoff:
                kept += 1
                continue
            path.unlink(missing_ok=True)
            removed.append(str(path.relative_to(root)))
            log.warning("removed attachment file no row owns: %s", path.relative_to(root))
    return SweepReport(kept=kept, removed=removed)
