"""The columns of the two sheets, and how a raw cell becomes a typed value.

A sheet's first row names its columns (in any order, any case); a column may be left
out, which leaves that field alone. Export-only columns are written for the reader and
ignored on import. See docs/risk-exchange.md.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from riskreg.risks.exchange.cells import restore
from riskreg.risks.exchange.errors import ImportTooLargeError, RowError

# What a reader hands over: CSV gives text only, XLSX also numbers, booleans and dates.
Cell = str | int | float | bool | date | None
# What a column makes of it: text (never None), a whole number, a date, or None if blank.
Value = str | int | date | None

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WHOLE = re.compile(r"[+-]?\d{1,9}")


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False  # never blank; a row that creates must have it
    export_only: bool = False  # written for the reader, ignored on import
    max_length: int = 200
    exact: bool = False  # free text, kept as typed; other text loses surrounding spaces


@dataclass(frozen=True)
class Sheet:
    name: str  # as the API names it: ?sheet=register
    stem: str  # of the file name: acme-risk-register-2026-11-29.csv
    title: str  # of the XLSX worksheet
    columns: tuple[Column, ...]
    keys: tuple[str, ...]  # columns every header must have

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _score_columns(kind: str) -> tuple[Column, ...]:
    return (
        Column(f"{kind}_likelihood", Kind.INT),
        Column(f"{kind}_impact", Kind.INT),
        Column(f"{kind}_score", Kind.INT, export_only=True),
    )


REGISTER = Sheet(
    name="register",
    stem="risk-register",
    title="Risk register",
    columns=(
        Column("reference", max_length=20),
        Column("title", required=True, exact=True),
        Column("statement", required=True, exact=True, max_length=10000),
        Column("category", required=True, max_length=40),
        Column("status", max_length=20),  # checked, never applied: see services/exchange.py
        Column("owner", max_length=150),
        Column("systems", max_length=20000),  # slugs, comma-separated
        *_score_columns("inherent"),
        *_score_columns("current"),
        *_score_columns("residual"),
        Column("level", export_only=True),
        Column("treatment_decision", max_length=20),
        Column("next_review_date", Kind.DATE, export_only=True),
        Column("updated_at", export_only=True),  # ISO 8601 text: spreadsheets have no zones
    ),
    keys=("reference",),
)

TREATMENT_PLAN = Sheet(
    name="treatment-plan",
    stem="treatment-plan",
    title="Treatment plan",
    columns=(
        Column("risk", required=True, max_length=20),
        Column("action", max_length=20),
        Column("title", required=True, exact=True),
        Column("owner", max_length=150),
        Column("due_date", Kind.DATE, required=True),
        Column("status", max_length=20),
        Column("overdue", export_only=True),
    ),
    keys=("risk", "action"),
)

SHEETS = {sheet.name: sheet for sheet in (REGISTER, TREATMENT_PLAN)}


class CellError(ValueError):
    """A cell that its column cannot read; the message says why."""


def blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(column: Column, cell: Cell) -> str:
    if isinstance(cell, str):
        text = restore(cell)
    elif isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))  # a spreadsheet stores the number typed as 7 as 7.0
    elif isinstance(cell, date):
        text = cell.isoformat()
    else:
        text = str(cell)
    text = text if column.exact else text.strip()
    if "\x00" in text:
        raise CellError("must not contain a NUL character")
    if len(text) > column.max_length:
        raise CellError(f"has {len(text)} characters; at most {column.max_length}")
    return text


def _int(cell: Cell) -> int:
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and WHOLE.fullmatch(cell.strip()):
        return int(cell.strip())
    raise CellError(f"must be a whole number, not {cell!r}")


def _date(cell: Cell) -> date:
    if isinstance(cell, datetime):
        if cell.time() != datetime.min.time():
            raise CellError(f"must be a date without a time, not {cell.isoformat()}")
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, str) and ISO_DATE.fullmatch(cell.strip()):
        try:
            return date.fromisoformat(cell.strip())
        except ValueError as exc:
            raise CellError(f"is not a date: {cell.strip()!r}") from exc
    raise CellError(f"must be a date as YYYY-MM-DD, not {cell!r}")


def parse(column: Column, cell: Cell) -> Value:
    """The cell as the column's type: text restored from its export form, a whole number,
    or a date; "" for blank text and None for a blank number or date."""
    if column.kind == Kind.TEXT:
        text = "" if cell is None else _text(column, cell)
        if column.required and not text.strip():
            raise CellError("is required")
        return text
    if blank(cell):
        if column.required:
            raise CellError("is required")
        return None
    return _int(cell) if column.kind == Kind.INT else _date(cell)


def collect(rows: Iterable[Sequence[Cell]], *, max_rows: int) -> list[list[Cell]]:
    """The rows as lists, trailing blank rows dropped; more than max_rows non-blank rows
    under the header is refused before the rest is read."""
    kept: list[list[Cell]] = []
    pending: list[list[Cell]] = []  # blank rows, kept only if a non-blank one follows
    filled = 0
    for cells in rows:
        if all(blank(c) for c in cells):
            pending.append([])
            continue
        filled += 1
        if filled > max_rows + 1:
            raise ImportTooLargeError(
                f"file: more than {max_rows} rows under the header", extra={"limit": max_rows}
            )
        kept += pending
        pending = []
        kept.append(list(cells))
    return kept


@dataclass(frozen=True)
class Record:
    """One non-blank row under the header: its row number and its raw cells by column."""

    row: int
    cells: dict[str, Cell]


def _header(sheet: Sheet, cells: list[Cell]) -> tuple[list[str], list[RowError]]:
    # Names are cut to 100 characters: an error echoes them, and no column's is longer.
    names = ["" if c is None else str(c).strip().lower()[:100] for c in cells]
    while names and not names[-1]:
        names.pop()
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append({"row": 1, "column": column, "message": message})

    for position, name in enumerate(names, start=1):
        if not name:
            fail("", f"column {position} of the header has no name")
        elif name not in sheet.names:
            fail(name, f"is not a column of the {sheet.name} sheet ({', '.join(sheet.names)})")
        elif names.index(name) != position - 1:
            fail(name, "is named twice in the header")
    for key in sheet.keys:
        if key not in names:
            fail(key, "is missing from the header")
    return names, errors


def records(sheet: Sheet, rows: list[list[Cell]]) -> tuple[list[Record], list[RowError]]:
    """The rows under the header as records, blank rows skipped; or the header's errors."""
    if not rows:
        return [], [{"row": 1, "column": "", "message": "the file is empty: no header row"}]
    names, errors = _header(sheet, rows[0])
    if errors:
        return [], errors
    found = []
    for number, cells in enumerate(rows[1:], start=2):
        if all(blank(c) for c in cells):
            continue
        if any(not blank(c) for c in cells[len(names) :]):
            message = f"has cells beyond the header's {len(names)} columns"
            errors.append({"row": number, "column": "", "message": message})
            continue
        padded = [*cells, *[None] * (len(names) - len(cells))]
        found.append(Record(number, dict(zip(names, padded, strict=False))))
    return found, errors
