"""The rows of an import being checked and written: shared by the register and the
treatment-plan imports of services/exchange.py."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError

from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import ApplicationError, NotFoundError
from riskreg.lib.models import reference_number
from riskreg.organisations.actor import Actor
from riskreg.organisations.selectors import member_by_username
from riskreg.risks.exchange.columns import Cell, CellError, Record, Sheet, Value, parse, records
from riskreg.risks.exchange.errors import ImportRowsInvalidError, RowError
from riskreg.risks.models import Risk, TreatmentAction
from riskreg.risks.selectors.register import risk_list
from riskreg.risks.selectors.workflow import action_list

T = TypeVar("T")
CHUNK = 500  # references per query


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _reason(exc: Exception) -> str:
    """Why a service refused, without the field name in front: the row error names it."""
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    fields = getattr(exc, "extra", {}).get("fields")
    if isinstance(fields, dict) and fields and next(iter(fields.values())):
        return str(next(iter(fields.values()))[0])
    return str(getattr(exc, "message", exc))


def _column(exc: Exception, sheet: Sheet) -> str:
    names = getattr(exc, "message_dict", None) or getattr(exc, "extra", {}).get("fields") or {}
    return next((name for name in names if name in sheet.names), "")


class Lookups:
    """The reads the rows of one import share, each made once: every risk the rows name
    (in a few queries, not one per row), their actions, members and sets of AI systems."""

    def __init__(self, actor: Actor, references: Iterable[str]) -> None:
        self.actor = actor
        numbers = sorted({n for r in references if (n := reference_number(r, "RSK-")) is not None})
        self.risks: dict[int, Risk] = {}
        for start in range(0, len(numbers), CHUNK):
            chunk = numbers[start : start + CHUNK]
            self.risks |= {r.number: r for r in risk_list(actor=actor).filter(number__in=chunk)}
        self._actions: dict[tuple[int, int], TreatmentAction] | None = None
        self._members: dict[str, str | None] = {}
        self._systems: dict[frozenset[str], str | None] = {}

    def risk(self, reference: str) -> Risk:
        """The risk a reference names, as risk_get finds it."""
        number = reference_number(reference, "RSK-")
        found = self.risks.get(number) if number is not None else None
        if found is None:
            raise NotFoundError(f"No risk {reference!r} in your organisation.")
        return found

    def action(self, risk: Risk, number: str) -> TreatmentAction:
        """An action of one of the risks by its number (A2 or 2), as action_get finds it."""
        if self._actions is None:
            pks = sorted(r.pk for r in self.risks.values())
            self._actions = {}
            for start in range(0, len(pks), CHUNK):
                rows = action_list(actor=self.actor).filter(risk_id__in=pks[start : start + CHUNK])
                self._actions |= {(a.risk_id, a.number): a for a in rows}
        digits = number.upper().removeprefix("A")
        found = None
        if digits.isascii() and digits.isdigit() and len(digits) <= 9:
            found = self._actions.get((risk.pk, int(digits)))
        if found is None:
            raise NotFoundError(f"No action {number!r} on {risk.reference}.")
        return found

    def member_problem(self, username: str) -> str | None:
        """Why username names no member of the organisation; None if it does."""
        if username not in self._members:
            self._members[username] = _problem(
                lambda: member_by_username(
                    organization_id=self.actor.organization_id, username=username, field="owner"
                )
            )
        return self._members[username]

    def systems_problem(self, slugs: list[str]) -> str | None:
        """Why the slugs do not all name AI systems the actor sees; None if they do."""
        key = frozenset(slugs)
        if key not in self._systems:
            self._systems[key] = _problem(
                lambda: inventory.inventory_links(actor=self.actor, links={"systems": slugs})
            )
        return self._systems[key]


def _problem(call: Callable[[], object]) -> str | None:
    try:
        call()
    except ApplicationError as exc:
        return _reason(exc)
    return None


class Row:
    """One record being checked: its typed values, and the errors found in it."""

    def __init__(self, sheet: Sheet, record: Record) -> None:
        self.number = record.row
        self.errors: list[RowError] = []
        self.bad: set[str] = set()  # columns with an error
        self.values: dict[str, Value] = {}
        for name, cell in record.cells.items():
            column = sheet.column(name)
            if column.export_only:
                continue
            try:
                self.values[name] = parse(column, cell)
            except CellError as exc:
                self.fail(name, str(exc))

    def has(self, name: str) -> bool:
        """Whether the sheet has the column and its cell in this row could be read."""
        return name in self.values

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return value if isinstance(value, str) else ""

    def number_in(self, name: str) -> int | None:
        value = self.values.get(name)
        return value if isinstance(value, int) else None

    def fail(self, column: str, message: str) -> None:
        self.errors.append({"row": self.number, "column": column, "message": message})
        self.bad.add(column)

    def check(self, column: str, call: Callable[[], T]) -> T | None:
        """call(); a domain error it raises becomes an error of this row's column."""
        try:
            return call()
        except ApplicationError as exc:
            self.fail(column, _reason(exc))
            return None

    def owner_change(self, lookups: Lookups, current: str) -> dict[str, Any]:
        """The owner arguments of a service, if the owner column changes current."""
        owner = self.text("owner")
        if not self.has("owner") or owner == current:
            return {}
        if not owner:
            return {"clear_owner": True}
        problem = lookups.member_problem(owner)
        if problem:
            self.fail("owner", problem)
            return {}
        return {"owner": owner}


def check_rows(
    actor: Actor,
    sheet: Sheet,
    rows: list[list[Cell]],
    check: Callable[[Row, Lookups], T | None],
) -> list[T]:
    """Each record checked by check; all the errors of all the rows raised at once."""
    found, errors = records(sheet, rows)
    checked = [Row(sheet, record) for record in found]
    lookups = Lookups(actor, (row.text(sheet.keys[0]) for row in checked))
    changes = []
    for row in checked:
        change = check(row, lookups)
        errors += row.errors
        if change is not None and not row.errors:
            changes.append(change)
    if errors:
        raise ImportRowsInvalidError.of(errors)
    return changes


def write_rows(sheet: Sheet, changes: Sequence[T], write: Callable[[T], str]) -> Counts:
    """Write each checked row; a refusal names the row and undoes the import."""
    counts = Counts()
    for change in changes:
        try:
            outcome = write(change)
        except (ApplicationError, DjangoValidationError) as exc:
            number = getattr(change, "row", 0)
            error: RowError = {
                "row": number,
                "column": _column(exc, sheet),
                "message": _reason(exc),
            }
            raise ImportRowsInvalidError.of([error]) from exc
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts
