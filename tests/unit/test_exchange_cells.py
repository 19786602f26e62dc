"""Formula neutralisation of exported cells, and the exact way back on import: one cell,
then whole CSV and XLSX files, with every trigger character and arbitrary text."""

import io
import re
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskreg.risks.exchange import csvio, files, xlsxio
from riskreg.risks.exchange.cells import TRIGGERS, neutralise, restore
from riskreg.risks.exchange.columns import (
    REGISTER,
    TREATMENT_PLAN,
    CellError,
    collect,
    parse,
    records,
)
from riskreg.risks.exchange.errors import ImportFileInvalidError, ImportTooLargeError

SIX = ["=", "+", "-", "@", "\t", "\r"]
TITLE, LIKELIHOOD, DUE = (
    REGISTER.column("title"),
    REGISTER.column("inherent_likelihood"),
    TREATMENT_PLAN.column("due_date"),
)


# --- one cell ------------------------------------------------------------------------


def test_the_six_trigger_characters_are_the_ones_the_issue_names() -> None:
    assert sorted(TRIGGERS) == sorted(SIX)


@pytest.mark.parametrize("trigger", SIX)
def test_text_starting_with_a_trigger_gets_one_apostrophe_and_loses_it_on_import(
    trigger: str,
) -> None:
    text = f'{trigger}HYPERLINK("http://evil.example")'

    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


def test_a_genuine_leading_apostrophe_is_doubled_and_comes_back_single() -> None:
    assert neutralise("'quoted") == "''quoted"
    assert restore("''quoted") == "'quoted"


@pytest.mark.parametrize("text", ["plain", "", " =not first", "%d", "1+1", "x=y", "'"])
def test_text_without_a_leading_trigger_or_apostrophe_survives(text: str) -> None:
    assert restore(neutralise(text)) == text
    if not text.startswith("'"):
        assert neutralise(text) == text


@given(st.text())
def test_restore_undoes_neutralise_for_any_text(text: str) -> None:
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(tuple(SIX))


@given(st.text())
def test_ooxml_escaping_is_reversible_for_any_text(text: str) -> None:
    escaped = xlsxio.escape(text)

    assert xlsxio.unescape(escaped) == text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", escaped)


# --- typed columns ------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "value"), [("3", 3), (" 3 ", 3), (3, 3), (3.0, 3), ("-3", -3)])
def test_a_numeric_column_reads_whole_numbers_however_written(cell: object, value: int) -> None:
    assert parse(LIKELIHOOD, cell) == value  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["three", "3.5", 3.5, "'3", True])
def test_a_numeric_column_refuses_anything_else(cell: object) -> None:
    with pytest.raises(CellError, match="whole number"):
        parse(LIKELIHOOD, cell)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cell",
    ["2026-11-29", date(2026, 11, 29), datetime(2026, 11, 29), " 2026-11-29 "],  # noqa: DTZ001
)
def test_a_date_column_reads_iso_text_and_date_cells(cell: object) -> None:
    assert parse(DUE, cell) == date(2026, 11, 29)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["29/11/2026", "2026-02-30", "20261129", 46355, ""])
def test_a_date_column_refuses_other_dates_and_blank_when_required(cell: object) -> None:
    with pytest.raises(CellError):
        parse(DUE, cell)  # type: ignore[arg-type]


def test_a_text_column_restores_the_apostrophe_and_refuses_nul() -> None:
    assert parse(TITLE, "'=1+1") == "=1+1"
    with pytest.raises(CellError, match="NUL"):
        parse(TITLE, "nul\x00byte")
    with pytest.raises(CellError, match="required"):
        parse(TITLE, "   ")


def test_a_header_with_unknown_repeated_or_missing_columns_is_row_1s_error() -> None:
    found, errors = records(REGISTER, [["Title", "titel", "title"]])

    assert found == []
    assert [(e["row"], e["column"]) for e in errors] == [
        (1, "titel"),
        (1, "title"),
        (1, "reference"),
    ]


def test_blank_rows_are_skipped_but_still_counted() -> None:
    found, errors = records(REGISTER, [["reference", "title"], ["", ""], [None, "Drift"]])

    assert errors == []
    assert [(r.row, r.cells["title"]) for r in found] == [(3, "Drift")]


def test_more_non_blank_rows_than_allowed_are_refused_before_the_rest_is_read() -> None:
    def rows() -> object:
        yield ["reference"]
        for n in range(10):
            yield [f"RSK-{n}"]
        raise AssertionError("read past the limit")

    with pytest.raises(ImportTooLargeError):
        collect(rows(), max_rows=3)  # type: ignore[arg-type]
    assert len(collect([["h"], ["a"], [""], ["b"], [None], [""]], max_rows=2)) == 4


# --- whole files ----------------------------------------------------------------------


def _register_rows(texts: list[str]) -> list[dict[str, object]]:
    return [
        {"reference": f"RSK-{n:03d}", "title": t, "statement": t, "inherent_likelihood": -3}
        for n, t in enumerate(texts, start=1)
    ]


def _read_back(data: bytes) -> list[tuple[str, str, object]]:
    found, errors = records(REGISTER, files.read(data, max_bytes=len(data)))
    assert errors == []
    # An empty text cell reads as blank (None), as the text columns read it: "".
    return [
        (
            restore(str(r.cells["title"] or "")),
            restore(str(r.cells["statement"] or "")),
            r.cells["inherent_likelihood"],
        )
        for r in found
    ]


def test_csv_export_neutralises_all_six_and_writes_numbers_bare() -> None:
    texts = [f"{t}cmd" for t in SIX]

    data = csvio.write(REGISTER, _register_rows(texts))  # type: ignore[arg-type]

    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("reference,title,statement,category,status,owner,systems,")
    assert lines[1].startswith("RSK-001,'=cmd,'=cmd,,,,,-3,,")
    assert lines[3].startswith("RSK-003,'-cmd,'-cmd,,,,,-3,,")
    assert lines[5].startswith("RSK-005,'\tcmd,'\tcmd,")
    assert lines[6].startswith('RSK-006,"\'\rcmd","\'\rcmd",')


def test_xlsx_export_writes_text_cells_as_text_and_numbers_as_numbers() -> None:
    data = xlsxio.write(REGISTER, _register_rows(["=1+1", "plain"]))  # type: ignore[arg-type]

    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    assert "<f " not in sheet
    assert '<c r="B2" t="inlineStr"><is><t>\'=1+1</t></is></c>' in sheet
    assert '<c r="H2" t="n"><v>-3</v></c>' in sheet


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=4))
def test_any_text_survives_a_csv_round_trip(texts: list[str]) -> None:
    data = csvio.write(REGISTER, _register_rows(texts))  # type: ignore[arg-type]

    assert _read_back(data) == [(t, t, "-3") for t in texts]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=4))
def test_any_text_survives_an_xlsx_round_trip(texts: list[str]) -> None:
    data = xlsxio.write(REGISTER, _register_rows(texts))  # type: ignore[arg-type]

    assert _read_back(data) == [(t, t, -3) for t in texts]


def test_dates_are_iso_text_in_csv_and_date_cells_in_xlsx() -> None:
    row = {"risk": "RSK-001", "action": "A1", "title": "Retrain", "due_date": date(2026, 12, 1)}

    in_csv = files.read(csvio.write(TREATMENT_PLAN, [row]), max_bytes=10_000)  # type: ignore[list-item]
    in_xlsx = files.read(xlsxio.write(TREATMENT_PLAN, [row]), max_bytes=100_000)  # type: ignore[list-item]

    assert in_csv[1][4] == "2026-12-01"
    assert in_xlsx[1][4] == datetime(2026, 12, 1)  # noqa: DTZ001 - spreadsheet dates are naive
    assert parse(DUE, in_csv[1][4]) == parse(DUE, in_xlsx[1][4]) == date(2026, 12, 1)


# --- refused files --------------------------------------------------------------------


def _zip(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        _zip("notes.txt", b"hello"),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 legacy xls",
        b'title\n"unterminated',
    ],
    ids=["broken zip", "zip without a workbook", "binary", "bad quoting"],
)
def test_content_that_is_neither_xlsx_nor_csv_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFileInvalidError, match=r"^file: "):
        files.read(data, max_bytes=10_000)


def test_a_workbook_that_expands_past_the_limit_is_refused_unopened() -> None:
    bomb = _zip("xl/sharedStrings.xml", b" " * 200_000)

    assert len(bomb) < 2_000
    with pytest.raises(ImportTooLargeError, match="expands"):
        files.read(bomb, max_bytes=10_000)


def test_a_file_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(ImportTooLargeError):
        files.read(b"reference\n" * 100, max_bytes=999)


def test_a_workbook_with_an_entity_expansion_bomb_is_refused_quickly() -> None:
    """Billion laughs in a worksheet: expat (2.4+) refuses the amplification."""
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE lolz [<!ENTITY lol0 "lollollollol">{lol}]>'
    workbook = zipfile.ZipFile(io.BytesIO(xlsxio.write(REGISTER, [{"title": "BOOM"}])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name in workbook.namelist():
            part = workbook.read(name)
            if name == "xl/worksheets/sheet1.xml":
                text = part.decode().replace("<worksheet", doctype + "<worksheet", 1)
                part = text.replace(">BOOM<", ">&lol9;<").encode()
            bomb.writestr(name, part)

    with pytest.raises(ImportFileInvalidError, match="not a readable XLSX"):
        files.read(out.getvalue(), max_bytes=1_000_000)
