"""Streaming reads of tabular files (CSV and Parquet) into numpy arrays, chunk by chunk.

A file is never read whole: CSV goes through pyarrow's streaming reader
(`pyarrow.csv.open_csv`), Parquet through `pyarrow.parquet.ParquetFile.iter_batches`, and
the batches they give are cut into chunks of exactly `chunk_rows` rows (the last one may be
shorter). Memory therefore depends on the chunk size and the columns, not on the rows.

A chunk is a `dict[str, numpy.ndarray]`: one 1-D array per column, all of one length, in
the file's column order (the engines in this package consume numpy arrays per column).
Arrow types become numpy types as follows:

=====================  ===============================================================
integers               int64 (or the file's width) when the chunk has no missing value,
                       else float64 with NaN where a value is missing
floats                 float64 (or float32) with NaN where a value is missing
decimals               float64 (rounded to the nearest double)
booleans               bool when the chunk has no missing value, else object (True,
                       False, None)
strings, binary        object arrays of str (or bytes), None where a value is missing
dates, timestamps      datetime64 (timestamps with a time zone in UTC), NaT if missing
dictionary-encoded     decoded to their values, as above
all-missing (null)     object array of None
lists, structs, maps   refused with ValueError
=====================  ===============================================================

CSV reading rules: UTF-8 text, comma-separated, one header line, double quotes (a quoted
field may hold line breaks). Only an empty field (quoted or not) is missing; text such as
``NA`` or ``null`` is kept as text, because it is often a real value ("NA" is Namibia,
"N/A" an answer) and a read must not change meaning silently. A float column may still
spell NaN as ``nan`` or ``NaN``. Column types are inferred by pyarrow from the first 8 MiB
of the file (`CSV_INFER_BYTES`): a column that holds only numbers (or nothing) there and
text further down is refused with a ValueError that names the column, instead of being
read with two types.

Nothing in a file is executed: pyarrow parses both formats itself, and pandas metadata
stored in a Parquet file is ignored.
"""

import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from numpy.typing import NDArray

Chunk = dict[str, NDArray[Any]]
Format = Literal["csv", "parquet"]

# pyarrow's streaming CSV reader parses one block at a time, and reads a few dozen blocks
# ahead of a slower consumer. Measured on a 4M-row, 215 MB file: the memory it holds grows with
# the block size (about 80 MiB at 1 MiB blocks, 130 at 2, 210 at 4, 300 at 8) while the time
# stays the same (1.35-1.4 s), so blocks are small.
CSV_BLOCK_BYTES = 1 << 20
# It would infer the column types from the first block; they are inferred from the first
# 8 MiB instead (about 150k rows of a typical table), parsed once more, in about 30 ms.
CSV_INFER_BYTES = 8 << 20
# The header is parsed by pyarrow too, so it is split exactly as the data will be (quotes,
# BOM), from the first lines of the file: a few milliseconds.
_HEADER_BYTES = 64 << 10
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 4096
_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".parq": "parquet",
    ".pq": "parquet",
}
_MAGIC_NAMES = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"SQLite format 3", "an SQLite database"),
)


def read_header(path: str | os.PathLike[str], *, format: Format | None = None) -> list[str]:
    """The column names of a CSV or Parquet file, without reading its rows.

    CSV: the header line, split by the same parser that reads the data (it parses the first
    64 KiB). Parquet: the names in the file's schema (its footer).

    Raises
    ------
    ValueError
        When the file is neither CSV nor Parquet, its content does not match its name or
        `format`, it cannot be parsed, or two columns share a name.
    """
    path = Path(path)
    kind = detect_format(path, format=format)
    try:
        with path.open("rb") as file:
            if kind == "parquet":
                names = list(pq.ParquetFile(file).schema_arrow.names)
            else:
                names = list(_parse_head(file, _HEADER_BYTES, None).column_names)
    except (pa.ArrowException, OSError) as error:  # pyarrow reports a corrupt file as OSError
        raise ValueError(f"{path}: cannot read the {kind} header: {error}") from error
    _check_unique(path, names)
    return names


def read_chunks(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    chunk_rows: int = 262_144,
    format: Format | None = None,
) -> Iterator[Chunk]:
    """Read a CSV or Parquet file as chunks of `chunk_rows` rows: {column: 1-D numpy array}.

    Parameters
    ----------
    path : path-like
        The file. Its format comes from `format`, else its suffix (.csv; .parquet, .parq,
        .pq), else its content; the content must agree in every case.
    columns : sequence of str, optional
        The columns to read, in this order; all of them when None.
    chunk_rows : int
        Rows per chunk (at least 1); the last chunk may hold fewer. A file without rows
        gives no chunk.
    format : "csv", "parquet" or None
        The format, when the name does not say it.

    Raises
    ------
    ValueError
        When the format is not recognised or does not match the content, a requested column
        is missing (the message lists the missing and the available ones), a column has a
        type that has no flat numpy form, or the content cannot be parsed. Raised before
        the first chunk for everything that the header or schema reveals; a parse error
        further down the file is raised when its chunk is reached.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    path = Path(path)
    kind = detect_format(path, format=format)
    names = read_header(path, format=kind)
    wanted = _check_columns(path, names, columns)
    if kind == "parquet":
        return _rechunk(path, _parquet_batches(path, wanted, chunk_rows), chunk_rows)
    return _rechunk(path, _csv_batches(path, wanted, names), chunk_rows)


def detect_format(path: str | os.PathLike[str], *, format: Format | None = None) -> Format:
    """The format of a file, from `format`, else its suffix, else its content.

    Parquet must begin and end with the 4 bytes ``PAR1``; CSV must be text (UTF-8, no NUL
    byte in its first 4 KiB) that does not look like Parquet.

    Raises
    ------
    ValueError
        When the file is missing, `format` is unknown, or the content does not match the
        format asked for or implied by the name (the message says what the content looks
        like).
    """
    path = Path(path)
    if format is not None and format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv', 'parquet' or None, got {format!r}")
    try:
        with path.open("rb") as file:
            looks = _looks_like(file)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read: {error.strerror or error}") from error
    expected = format or _SUFFIXES.get(path.suffix.lower())
    if expected is None:
        if looks in ("csv", "parquet"):
            return looks  # type: ignore[return-value]  # narrowed by the test above
        raise ValueError(f"{path}: neither CSV nor Parquet; the content looks like {looks}")
    if looks != expected:
        described = {"csv": "CSV text", "parquet": "Parquet"}.get(looks, looks)
        raise ValueError(
            f"{path}: expected {expected} (from its {'format' if format else 'name'}), "
            f"but the content looks like {described}"
        )
    return expected


# Format sniffing.


def _looks_like(file: BinaryIO) -> str:
    """ "parquet", "csv", or a description of what else the bytes look like."""
    head = file.read(_SNIFF_BYTES)
    if head.startswith(_PARQUET_MAGIC):
        file.seek(0, os.SEEK_END)
        if file.tell() >= 2 * len(_PARQUET_MAGIC):
            file.seek(-len(_PARQUET_MAGIC), os.SEEK_END)
            if file.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC:
                return "parquet"
        return "a truncated Parquet file (no PAR1 at its end)"
    for magic, name in _MAGIC_NAMES:
        if head.startswith(magic):
            return name
    if b"\x00" in head:
        return "binary data"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character; anything earlier is not UTF-8.
        if error.start < len(head) - 3:
            return "text that is not UTF-8"
    return "csv"


# Columns.


def _check_unique(path: Path, names: list[str]) -> None:
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise ValueError(f"{path}: columns named more than once: {', '.join(map(repr, twice))}")


def _check_columns(path: Path, names: list[str], columns: Sequence[str] | None) -> list[str]:
    """The columns to read; ValueError listing the missing and the available ones."""
    if columns is None:
        return names
    if isinstance(columns, str):
        raise ValueError(f"columns must be a sequence of names, not the string {columns!r}")
    wanted = list(columns)
    if not wanted:
        raise ValueError("columns must name at least one column (or be None for all)")
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ValueError(
            f"{path}: missing columns {', '.join(map(repr, missing))}; "
            f"available: {', '.join(map(repr, names))}"
        )
    _check_unique(path, wanted)
    return wanted


# Batches from each format, then chunks of the requested size.


def _csv_options(columns: list[str] | None, block_bytes: int) -> dict[str, Any]:
    return {
        "read_options": pa_csv.ReadOptions(block_size=block_bytes, use_threads=True),
        # Quoted fields may hold line breaks (RFC 4180); allowing them costs nothing measurable.
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(
            include_columns=columns,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _csv_batches(path: Path, columns: list[str], names: list[str]) -> Iterator[pa.RecordBatch]:
    with path.open("rb") as file:
        options = _csv_options(columns, CSV_BLOCK_BYTES)
        types = _csv_types(file, columns)
        if types is not None:
            options["convert_options"].column_types = types
        try:
            yield from pa_csv.open_csv(file, **options)
        except pa.ArrowInvalid as error:
            # pyarrow numbers the column; name it, and say where its type came from.
            found = re.search(r"CSV column #(\d+)", str(error))
            if found is None or int(found[1]) >= len(names):
                raise
            raise ValueError(
                f"{path}: column {names[int(found[1])]!r} cannot be read: {error} (its type "
                f"was inferred from the first {CSV_INFER_BYTES:,} bytes of the file)"
            ) from error


def _csv_types(file: BinaryIO, columns: list[str]) -> dict[str, Any] | None:
    """The column types pyarrow infers from the first CSV_INFER_BYTES of a file.

    None when that part does not parse on its own: pyarrow then infers from its first block.
    """
    try:
        table = _parse_head(file, CSV_INFER_BYTES, columns)
    except pa.ArrowInvalid:
        return None
    return {field.name: field.type for field in table.schema}


def _parse_head(file: BinaryIO, size: int, columns: list[str] | None) -> pa.Table:
    """The whole lines among the first `size` bytes of a CSV file, parsed as one block.

    The streaming reader would read dozens of blocks ahead; this reads `size` bytes. A
    last row cut short (inside a quoted line break) is skipped.
    """
    head = file.read(size)
    file.seek(0)
    if len(head) == size and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]
    options = _csv_options(columns, max(len(head), 1))
    options["read_options"].use_threads = False
    options["parse_options"].invalid_row_handler = lambda row: "skip"
    return pa_csv.read_csv(pa.BufferReader(head), **options)


def _parquet_batches(path: Path, columns: list[str], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    with path.open("rb") as file:
        parquet = pq.ParquetFile(file)
        yield from parquet.iter_batches(batch_size=chunk_rows, columns=columns)


def _rechunk(path: Path, batches: Iterator[pa.RecordBatch], chunk_rows: int) -> Iterator[Chunk]:
    """Cut the reader's batches into chunks of exactly `chunk_rows` rows (the last: fewer)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    try:
        for batch in batches:
            while batch.num_rows:
                take = min(chunk_rows - held, batch.num_rows)
                pending.append(batch.slice(0, take))
                batch = batch.slice(take)
                held += take
                if held == chunk_rows:
                    yield _to_numpy(path, pending)
                    pending, held = [], 0
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"{path}: cannot be read: {error}") from error
    if held:
        yield _to_numpy(path, pending)


def _to_numpy(path: Path, batches: list[pa.RecordBatch]) -> Chunk:
    table = pa.Table.from_batches(batches)
    return {name: _column(path, name, table.column(name)) for name in table.column_names}


def _column(path: Path, name: str, column: pa.ChunkedArray) -> NDArray[Any]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_decimal(kind):
        column = column.cast(pa.float64())
    elif pa.types.is_nested(kind):
        raise ValueError(f"{path}: column {name!r} has the nested type {kind}, which is not read")
    values: NDArray[Any] = column.to_numpy()
    return values
