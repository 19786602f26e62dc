"""Sheets as XLSX workbooks (openpyxl): one worksheet, text cells always text, numbers
numeric cells, dates date cells.

openpyxl makes a formula of any string starting with "=" unless the cell's type is set to
text, so every text cell is written with data type "s" after the same apostrophe
neutralisation as CSV (a reader sees the apostrophe; re-import removes it).

XML cannot hold most control characters, so text is escaped as OOXML does (ST_Xstring):
such a character becomes `_xHHHH_`, and an underscore that would otherwise start such a
sequence becomes `_x005F_`. Excel reads those back as the characters; import unescapes.
"""

import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, time, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font

from riskreg.risks.exchange.cells import neutralise
from riskreg.risks.exchange.columns import Cell, Sheet, collect
from riskreg.risks.exchange.errors import ImportFileInvalidError, ImportTooLargeError

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
DATE_FORMAT = "yyyy-mm-dd"
# Characters XML 1.0 cannot carry (tab, LF and CR can), and an underscore that would
# read as the start of an escape.
_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4})|[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def escape(text: str) -> str:
    """OOXML ST_Xstring escaping; unescape(escape(text)) == text."""
    return _ESCAPE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _cell(ws: Any, value: Cell) -> SheetCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=escape(neutralise(value)))
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        return cell
    number: Any = value  # openpyxl writes a date as a number with a date format
    cell = WriteOnlyCell(ws, value=number)
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def write(sheet: Sheet, rows: Iterable[Mapping[str, Cell]]) -> bytes:
    """A workbook of one worksheet: a bold, frozen header, then one row per row."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "riskreg"
    ws = wb.create_sheet(sheet.title)
    ws.freeze_panes = "A2"
    header = []
    for name in sheet.names:
        cell = WriteOnlyCell(ws, value=name)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append([_cell(ws, row.get(name)) for name in sheet.names])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _check_archive(data: bytes, max_expanded: int) -> None:
    """Refuse a zip that is not readable, or that would expand beyond max_expanded bytes
    (a small file can hold gigabytes of XML)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileInvalidError(f"file: not a readable XLSX workbook ({exc})") from exc
    if expanded > max_expanded:
        raise ImportTooLargeError(
            f"file: the workbook expands to {expanded} bytes; the limit is {max_expanded}",
            extra={"limit": max_expanded},
        )


def _value(value: Any) -> Cell:
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value  # type: ignore[no-any-return]  # a number, boolean, date or None


def _rows(ws: Any) -> Iterator[list[Cell]]:
    for values in ws.iter_rows(values_only=True):
        yield [_value(v) for v in values]


def read(data: bytes, *, max_rows: int, max_expanded: int) -> list[list[Cell]]:
    """The first worksheet's rows, header first, as values (never formulas: the value a
    spreadsheet last computed, if any); at most max_rows under the header."""
    _check_archive(data, max_expanded)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not matter here.
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not wb.worksheets:
                    raise ImportFileInvalidError("file: the workbook has no worksheet")
                return collect(_rows(wb.worksheets[0]), max_rows=max_rows)
            finally:
                wb.close()
    except (ImportFileInvalidError, ImportTooLargeError):
        raise
    # openpyxl raises what its zip, XML and number parsers raise for a broken part.
    except Exception as exc:  # every failure to read is the same 400
        raise ImportFileInvalidError(
            f"file: not a readable XLSX workbook ({type(exc).__name__})"
        ) from exc
