"""The errors an import answers with; every code is registered in riskreg/lib/errors.py."""

from typing import TypedDict

from riskreg.lib.errors import ApplicationError


class RowError(TypedDict):
    """One problem of one row: its spreadsheet row number (the header is row 1), the
    column, and why."""

    row: int
    column: str
    message: str


# The answer lists this many errors at most (a header of 16,384 unknown columns is 16,384
# errors); extra.error_count says how many there were.
LISTED = 100


class ImportRowsInvalidError(ApplicationError):
    code = "import_rows_invalid"

    @classmethod
    def of(cls, errors: list[RowError]) -> "ImportRowsInvalidError":
        first = errors[0]
        where = f"row {first['row']}" + (f", {first['column']}" if first["column"] else "")
        many = "1 error" if len(errors) == 1 else f"{len(errors)} errors"
        return cls(
            f"file: {many}, nothing was imported; {where}: {first['message']}",
            extra={"errors": errors[:LISTED], "error_count": len(errors)},
        )


class ImportFileInvalidError(ApplicationError):
    """Not a CSV or XLSX file that can be read at all."""

    code = "import_failed"


class ImportTooLargeError(ApplicationError):
    code = "import_too_large"
