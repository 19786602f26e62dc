"""Where stored files live: a local folder by default, S3-compatible object storage by choice.

Every read and write of an uploaded file or an attachment goes through this module, so
that web processes and workers on any machine find the same bytes. Files are
content-addressed under `<organisation id>/<sha[:2]>/<sha>`:

- by default below RISKREG_ATTACHMENTS_DIR, written to a temporary name and renamed into
  place (`riskreg.lib.files.write_atomically`), so a reader never sees half a file;
- with RISKREG_STORAGE_URL=s3://bucket/prefix, as objects of that bucket below that
  prefix, through a django-storages `S3Storage` made from riskreg's own settings
  (RISKREG_S3_ENDPOINT_URL for MinIO, Ceph or any other S3-compatible server,
  RISKREG_S3_REGION; credentials from boto3's usual sources, such as AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY). An object appears whole or not at all.

Engines need a seekable local file (Parquet's footer is at its end): `local_copy` gives the
stored file itself on the local backend, and a temporary download, removed afterwards, on
S3.
"""

import functools
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings

from riskreg.lib.files import write_atomically

# Uploads are spooled in memory up to this size on their way to S3, on disk beyond it.
_SPOOL_BYTES = 8 << 20


class Stream(Protocol):
    """A readable binary stream (a local file, or an S3 object's body)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoredFile:
    """One file in the store: its name (`<org>/<xx>/<sha>`, or a leftover temporary name)
    and when it was last written, in seconds since the epoch."""

    name: str
    modified: float

    @property
    def organization_id(self) -> int | None:
        head = self.name.split("/", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def sha256(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def name_for(organization_id: int, sha256: str) -> str:
    """The stored name of an organisation's file with this SHA-256."""
    return f"{organization_id}/{sha256[:2]}/{sha256}"


def parse_storage_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket/prefix.

    Raises
    ------
    ValueError
        When the URL is not s3:// or names no bucket.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"RISKREG_STORAGE_URL must look like s3://bucket/prefix, got {url!r}")
    return parts.netloc, parts.path.strip("/")


class _Local:
    """Files in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def store(self, name: str, chunks: Iterable[bytes]) -> None:
        write_atomically(self.root / name, chunks)

    def open(self, name: str) -> Stream:
        return (self.root / name).open("rb")

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def remove(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def listing(self) -> Iterator[StoredFile]:
        if not self.root.exists():
            return
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.isdigit()):
            for path in sorted(folder.glob("*/*")):
                if path.is_file():
                    name = path.relative_to(self.root).as_posix()
                    yield StoredFile(name, path.stat().st_mtime)

    @contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"no stored file {name}")
        yield path


class _S3:
    """Objects in an S3-compatible bucket, below a prefix."""

    def __init__(self, storage: Any, bucket: str, prefix: str) -> None:
        self.storage, self.bucket, self.prefix = storage, bucket, prefix

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, name: str) -> str:
        return posixpath.join(self.prefix, name) if self.prefix else name

    def store(self, name: str, chunks: Iterable[bytes]) -> None:
        from django.core.files import File

        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            self.storage.save(name, File(spool, name=name))

    def open(self, name: str) -> Stream:
        body: Stream = self.storage.bucket.Object(self.key(name)).get()["Body"]
        return body

    def exists(self, name: str) -> bool:
        return bool(self.storage.exists(name))

    def remove(self, name: str) -> None:
        self.storage.delete(name)

    def listing(self) -> Iterator[StoredFile]:
        start = f"{self.prefix}/" if self.prefix else ""
        for summary in self.storage.bucket.objects.filter(Prefix=start):  # pages as it goes
            yield StoredFile(summary.key[len(start) :], summary.last_modified.timestamp())

    @contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(prefix="riskreg-blob-"))
        try:
            path = folder / name.rsplit("/", 1)[-1]
            self.storage.bucket.download_file(self.key(name), str(path))
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _s3(url: str, endpoint_url: str, region: str) -> _S3:
    from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]  # no stubs

    bucket, prefix = parse_storage_url(url)
    storage = S3Storage(
        bucket_name=bucket,
        location=prefix,
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        file_overwrite=True,  # content-addressed: the same name holds the same bytes
        default_acl=None,
        querystring_auth=False,
        max_memory_size=_SPOOL_BYTES,
    )
    return _S3(storage, bucket, prefix)


def _backend() -> _Local | _S3:
    url = settings.RISKREG_STORAGE_URL
    if not url:
        return _Local(Path(settings.RISKREG_ATTACHMENTS_DIR))
    return _s3(url, settings.RISKREG_S3_ENDPOINT_URL, settings.RISKREG_S3_REGION)


def describe() -> str:
    """Where files live, for logs and messages: a folder, or s3://bucket/prefix."""
    return _backend().describe()


def store(organization_id: int, sha256: str, chunks: Iterable[bytes]) -> None:
    """Write the bytes under their hash (whole or not at all)."""
    _backend().store(name_for(organization_id, sha256), chunks)


def open_blob(organization_id: int, sha256: str) -> Stream:
    """The stored bytes as a readable stream; the caller closes it.

    Raises
    ------
    FileNotFoundError
        On the local backend, when there is no such file (botocore's ClientError on S3).
    """
    return _backend().open(name_for(organization_id, sha256))


def read_bytes(organization_id: int, sha256: str) -> bytes:
    """The stored bytes, whole (for files read whole anyway: an uploaded model)."""
    stream = open_blob(organization_id, sha256)
    try:
        data: bytes = stream.read()
    finally:
        stream.close()
    return data


def exists(organization_id: int, sha256: str) -> bool:
    """Whether the organisation's file with this hash is stored."""
    return _backend().exists(name_for(organization_id, sha256))


def remove(organization_id: int, sha256: str) -> None:
    """Remove the file; nothing happens when it is not there."""
    _backend().remove(name_for(organization_id, sha256))


@contextmanager
def local_copy(organization_id: int, sha256: str) -> Iterator[Path]:
    """A local, seekable path holding the stored bytes, for the duration of the block."""
    with _backend().local_copy(name_for(organization_id, sha256)) as path:
        yield path


def listing() -> Iterator[StoredFile]:
    """Every file below the store's root that lies in an organisation's folder (temporary
    files a killed process left beside them included)."""
    return _backend().listing()


def remove_name(name: str) -> None:
    """Remove a file by its stored name (as `listing` gives it)."""
    _backend().remove(name)
