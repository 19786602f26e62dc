"""The format of a file: chosen by the caller on export, read from the content on import."""

from collections.abc import Iterable, Mapping
from typing import Protocol

from riskreg.risks.exchange import csvio, xlsxio
from riskreg.risks.exchange.columns import Cell, Sheet
from riskreg.risks.exchange.errors import ImportTooLargeError

TYPES = ("csv", "xlsx")
CONTENT_TYPES = {"csv": csvio.CONTENT_TYPE, "xlsx": xlsxio.CONTENT_TYPE}
# Every imported row is written through the services (validated and audited), about 40 ms
# a row on these machines: 1,000 rows keep one request under a minute. A register larger
# than that is imported in parts.
MAX_ROWS = 1000
# How far the XML inside a workbook may expand, as a multiple of the upload limit.
EXPANSION = 10


def write(sheet: Sheet, rows: Iterable[Mapping[str, Cell]], kind: str) -> bytes:
    """The rows as a file of the kind asked for, "csv" or "xlsx"."""
    return xlsxio.write(sheet, rows) if kind == "xlsx" else csvio.write(sheet, rows)


class Upload(Protocol):
    """What an import needs of an uploaded file (Django's UploadedFile has it)."""

    size: int | None

    def read(self, size: int = -1, /) -> bytes: ...


def _too_large(size: int, max_bytes: int) -> ImportTooLargeError:
    return ImportTooLargeError(
        f"file: {size} bytes; the limit is {max_bytes}", extra={"limit": max_bytes}
    )


def read_upload(upload: Upload, *, max_bytes: int) -> list[list[Cell]]:
    """The rows of an uploaded file; its size is checked before it is read."""
    if (upload.size or 0) > max_bytes:
        raise _too_large(upload.size or 0, max_bytes)
    return read(upload.read(max_bytes + 1), max_bytes=max_bytes)


def read(data: bytes, *, max_bytes: int, max_rows: int = MAX_ROWS) -> list[list[Cell]]:
    """The rows of an uploaded file, header first: an XLSX workbook if it is a zip
    archive, else CSV text in UTF-8 (with or without a byte order mark)."""
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if data.startswith(xlsxio.ZIP_MAGIC):
        return xlsxio.read(data, max_rows=max_rows, max_expanded=EXPANSION * max_bytes)
    return csvio.read(data, max_rows=max_rows)
