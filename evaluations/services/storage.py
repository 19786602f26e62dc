"""Housekeeping of the attachment store: files that no row owns.

A submission removes the files it wrote when its transaction fails. A process killed
between writing a file and committing, or a caller's outer transaction rolled back later,
leaves a file no Blob row names; the sweep removes those once they are old enough that no
transaction still in flight can own them.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from evaluations import attachments as files
from evaluations import blobstore
from evaluations.models import Blob

log = logging.getLogger(__name__)
# Names looked up in the database at once during a sweep.
_BATCH = 1000


def blob_store(
    *,
    organization_id: int,
    sha256: str,
    size: int,
    media_type: str,
    upload: files.Upload,
    written: list[str],
) -> Blob:
    """The organisation's Blob row for these bytes, with the file in the store.

    Runs inside the caller's transaction. A file this call brought into being is added to
    `written`, so that the caller can remove it again if the transaction fails; a file an
    existing row already owns is never listed.
    """
    blob = Blob.objects.filter(organization_id=organization_id, sha256=sha256).first()
    existed = blobstore.exists(organization_id, sha256)
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
    """Remove stored files (and abandoned temporary files) that no Blob row names.

    Works alike on the local folder and on an S3 bucket: files are listed organisation by
    organisation, and a file is removed only when no row owns it and it is older than
    `older_than`.
    """
    cutoff = time.time() - older_than.total_seconds()
    kept, removed = 0, []
    for organization_id, stored in _by_organisation(blobstore.listing()):
        owned = _owned(organization_id, [f.sha256 for f in stored])
        for found in stored:
            if found.sha256 in owned or found.modified > cutoff:
                kept += 1
                continue
            blobstore.remove_name(found.name)
            removed.append(found.name)
            log.warning("removed attachment file no row owns: %s", found.name)
    return SweepReport(kept=kept, removed=removed)


def _by_organisation(
    stored: Iterator[blobstore.StoredFile],
) -> Iterator[tuple[int, list[blobstore.StoredFile]]]:
    """The listing in batches of one organisation each (its files come one after another)."""
    current, batch = -1, list[blobstore.StoredFile]()
    for found in stored:
        organization_id = found.organization_id
        if organization_id is None:
            continue
        if batch and (organization_id != current or len(batch) >= _BATCH):
            yield current, batch
            batch = []
        current = organization_id
        batch.append(found)
    if batch:
        yield current, batch
