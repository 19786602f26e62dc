"""Sheets as CSV: UTF-8 with a byte order mark (so spreadsheets detect the encoding),
comma-separated, CRLF line ends, numbers as bare digits and dates as YYYY-MM-DD."""

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date

from riskreg.risks.exchange.cells import neutralise
from riskreg.risks.exchange.columns import Cell, Sheet, collect
from riskreg.risks.exchange.errors import ImportFileInvalidError

CONTENT_TYPE = "text/csv; charset=utf-8"


def _out(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value  # a number, written bare: -3 stays -3


def write(sheet: Sheet, rows: Iterable[Mapping[str, Cell]]) -> bytes:
    """The header, then one line per row; text neutralised, numbers left as numbers."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.names)
    for row in rows:
        writer.writerow([_out(row.get(name)) for name in sheet.names])
    return out.getvalue().encode("utf-8-sig")


def read(data: bytes, *, max_rows: int) -> list[list[Cell]]:
    """Every record as a list of text cells, header first; at most max_rows under it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileInvalidError(
            f"file: neither an XLSX workbook nor CSV text in UTF-8 (byte {exc.start} is not UTF-8)"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return collect(reader, max_rows=max_rows)
    except csv.Error as exc:
        raise ImportFileInvalidError(
            f"file: not valid CSV near line {reader.line_num} ({exc})"
        ) from exc
