"""Splitting a CSV or Parquet file into parts of rows that workers read on their own.

A part is a range of rows [row_start, row_stop), the rows one pass would read in that
order; its chunks are exactly the rows `reading.read_chunks` gives there, with the same
column types, so engines fed part by part and merged see what one pass sees.

Parquet: the footer gives the row count and the row groups; a part is cut at any row and
read from the row groups it overlaps (`ParquetFile.iter_batches(row_groups=...)`).

CSV: a part is a byte range of whole lines, read as the header line followed by those
bytes, with the column types inferred from the head of the whole file (as one pass infers
them). Boundaries are put after a line break outside quotes, counting double quotes from
the start of the file (RFC 4180: a quoted field's line breaks are inside an odd number of
quotes). A quote that is not at the start of a field (``5" screen``) is text to the parser
but would mislead that count; so every part's rows are counted by the same parser that will
read them, and their sum must equal the rows of one streaming read of the file. When it
does not, or anything in the file does not parse, `plan_parts` returns no parts and the
file is read in one pass (which reports any error in the file as it always does).
"""

import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from evaluations.assessments.reading import (
    CSV_BLOCK_BYTES,
    Chunk,
    _check_columns,
    _csv_options,
    _csv_types,
    _rechunk,
    detect_format,
    read_header,
)

# More parts than this would only add rows to the database and messages to the broker.
MAX_PARTS = 256
_SCAN_BYTES = 4 << 20


@dataclass(frozen=True)
class Part:
    """Rows [row_start, row_stop) of a file; for CSV also the bytes that hold them."""

    row_start: int
    row_stop: int
    byte_start: int | None = None
    byte_stop: int | None = None
    header_stop: int | None = None  # CSV: the header line is bytes [0, header_stop)


def plan_parts(path: str | Path, *, format: str, part_bytes: int) -> list[Part]:
    """Parts of about `part_bytes` bytes each (at most MAX_PARTS); [] for one pass.

    [] when the file is no larger than `part_bytes`, has fewer than two rows, or (CSV) its
    parts cannot be told apart with certainty (see the module).

    Raises
    ------
    ValueError
        When part_bytes is not a whole number ≥ 1, or the format is not csv or parquet.
    """
    if isinstance(part_bytes, bool) or not isinstance(part_bytes, int) or part_bytes < 1:
        raise ValueError(f"part_bytes must be a whole number >= 1, got {part_bytes!r}")
    path = Path(path)
    size = path.stat().st_size
    if size <= part_bytes:
        return []
    part_bytes = max(part_bytes, math.ceil(size / MAX_PARTS))
    if format == "parquet":
        return _parquet_parts(path, size, part_bytes)
    if format == "csv":
        return _csv_parts(path, size, part_bytes)
    raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")


def read_part(
    path: str | Path,
    part: Part,
    *,
    format: str,
    columns: Sequence[str] | None,
    chunk_rows: int,
) -> Iterator[Chunk]:
    """The rows of one part, in chunks of `chunk_rows` rows (as `reading.read_chunks`).

    Raises
    ------
    ValueError
        As `reading.read_chunks`: a missing column, content that does not parse.
    """
    path = Path(path)
    kind: Literal["csv", "parquet"] = "parquet" if format == "parquet" else "csv"
    detect_format(path, format=kind)
    wanted = _check_columns(path, read_header(path, format=kind), columns)
    if kind == "parquet":
        return _rechunk(path, _parquet_rows(path, part, wanted, chunk_rows), chunk_rows)
    return _rechunk(path, _csv_rows(path, part, wanted), chunk_rows)


# Parquet.


def _parquet_parts(path: Path, size: int, part_bytes: int) -> list[Part]:
    rows = int(pq.ParquetFile(path).metadata.num_rows)
    count = min(math.ceil(size / part_bytes), rows)
    if count < 2:
        return []
    step = math.ceil(rows / count)
    return [Part(start, min(start + step, rows)) for start in range(0, rows, step)]


def _parquet_rows(
    path: Path, part: Part, columns: list[str], chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    with path.open("rb") as file:
        parquet = pq.ParquetFile(file)
        first = 0
        for group in range(parquet.metadata.num_row_groups):
            last = first + parquet.metadata.row_group(group).num_rows
            if first < part.row_stop and part.row_start < last:
                at = first
                batches = parquet.iter_batches(
                    batch_size=chunk_rows, row_groups=[group], columns=columns
                )
                for batch in batches:
                    start = max(part.row_start - at, 0)
                    stop = min(part.row_stop - at, batch.num_rows)
                    if start < stop:
                        yield batch.slice(start, stop - start)
                    at += batch.num_rows
            first = last


# CSV.


class _Slices(io.RawIOBase):
    """A readable stream of byte ranges of one file, one after the other."""

    def __init__(self, file: BinaryIO, slices: list[tuple[int, int]]) -> None:
        self._file = file
        self._slices = [(start, stop) for start, stop in slices if stop > start]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while self._slices:
            start, stop = self._slices[0]
            if start >= stop:
                self._slices.pop(0)
                continue
            self._file.seek(start)
            data = self._file.read(min(len(view), stop - start))
            if not data:
                raise ValueError("the file ended before the part did")
            view[: len(data)] = data
            self._slices[0] = (start + len(data), stop)
            return len(data)
        return 0


def _csv_stream(file: BinaryIO, part: Part) -> io.BufferedReader:
    if part.header_stop is None or part.byte_start is None or part.byte_stop is None:
        raise ValueError(f"a CSV part needs its byte range, got {part!r}")
    slices = [(0, part.header_stop), (part.byte_start, part.byte_stop)]
    return io.BufferedReader(_Slices(file, slices), buffer_size=1 << 20)


def _csv_rows(path: Path, part: Part, columns: list[str]) -> Iterator[pa.RecordBatch]:
    with path.open("rb") as file:
        options = _csv_options(columns, CSV_BLOCK_BYTES)
        types = _csv_types(file, columns)
        if types is not None:
            options["convert_options"].column_types = types
        yield from pa_csv.open_csv(_csv_stream(file, part), **options)


def _csv_parts(path: Path, size: int, part_bytes: int) -> list[Part]:
    with path.open("rb") as file:
        names = read_header(path, format="csv")
        types = _csv_types(file, names)
        if types is None:
            return []  # one pass infers the types from its first block; a part could not
        starts = _line_starts(file, size, part_bytes)
        if len(starts) < 2:
            return []  # no line break, or one part only
        ranges = list(zip(starts, [*starts[1:], size], strict=True))
        header = starts[0]
        parts, row = [], 0
        try:
            for start, stop in ranges:
                rows = _count_rows(file, names[0], types, Part(0, 0, start, stop, header))
                parts.append(Part(row, row + rows, start, stop, header))
                row += rows
            whole = _count_rows(file, names[0], types, Part(0, 0, header, size, header))
        except pa.ArrowException:
            return []
    parts = [part for part in parts if part.row_stop > part.row_start]
    return parts if row == whole and len(parts) > 1 else []


def _count_rows(file: BinaryIO, column: str, types: dict[str, Any], part: Part) -> int:
    """Rows of a part, as the reader parses them (one column converted)."""
    options = _csv_options([column], CSV_BLOCK_BYTES)
    options["convert_options"].column_types = {column: types[column]}
    return sum(batch.num_rows for batch in pa_csv.open_csv(_csv_stream(file, part), **options))


def _line_starts(file: BinaryIO, size: int, part_bytes: int) -> list[int]:
    """Where the first row starts (after the header line), then where a row starts at least
    part_bytes after the previous start: just after a line break outside quotes."""
    starts: list[int] = []
    target = 0  # the next start wanted at or after this byte
    quotes = offset = 0  # the quotes before `offset`, where the block starts
    file.seek(0)
    while target < size and (block := file.read(_SCAN_BYTES)):
        at = max(target - 1 - offset, 0)
        while (found := block.find(b"\n", at)) >= 0:
            at = found + 1
            if (quotes + block.count(b'"', 0, found)) % 2:
                continue  # a line break inside a quoted field
            starts.append(offset + found + 1)
            target = starts[-1] + part_bytes
            at = max(target - 1 - offset, at)
        quotes += block.count(b'"')
        offset += len(block)
    return [start for start in starts if start < size]
