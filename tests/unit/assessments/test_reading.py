"""Streaming reads of CSV and Parquet files: chunks add up to one read, bad files are refused."""

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from evaluations.assessments import reading

ROOT = Path(__file__).resolve().parents[3]


def sample_table(rows: int = 1000) -> pa.Table:
    rng = np.random.default_rng(7)
    ages = rng.integers(18, 90, rows)
    income = rng.normal(50_000, 15_000, rows).round(2)
    sex = rng.choice(np.array(["female", "male", "Zoë"], dtype=object), rows)
    return pa.table(
        {
            "age": pa.array(ages, mask=np.arange(rows) % 97 == 0),
            "income": pa.array(income, mask=np.arange(rows) % 31 == 0),
            "sex": pa.array(sex, mask=np.arange(rows) % 53 == 0),
            "approved": pa.array(rng.random(rows) < 0.5),
        }
    )


def write_csv(table: pa.Table, path: Path) -> Path:
    pa_csv.write_csv(table, path)
    return path


def single_read_csv(path: Path) -> dict[str, Any]:
    options = pa_csv.ConvertOptions(null_values=[""], strings_can_be_null=True)
    table = pa_csv.read_csv(path, convert_options=options)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def concatenated(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}


def assert_same_columns(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(got) == list(expected)
    for name in expected:
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name], expected[name], strict=True)


@pytest.mark.parametrize("chunk_rows", [1, 7, 334, 1000, 5000])
def test_a_csv_read_in_chunks_equals_a_single_read(tmp_path: Path, chunk_rows: int) -> None:
    path = write_csv(sample_table(), tmp_path / "applications.csv")

    chunks = list(reading.read_chunks(path, chunk_rows=chunk_rows))

    assert [len(chunk["age"]) for chunk in chunks[:-1]] == [chunk_rows] * (len(chunks) - 1)
    assert sum(len(chunk["age"]) for chunk in chunks) == 1000
    assert_same_columns(concatenated(chunks), single_read_csv(path))


@pytest.mark.parametrize("chunk_rows", [1, 64, 300, 1000])
def test_a_parquet_file_read_in_chunks_equals_a_single_read(
    tmp_path: Path, chunk_rows: int
) -> None:
    path = tmp_path / "applications.parquet"
    # Row groups of 128 rows: chunks must cross row-group boundaries.
    pq.write_table(sample_table(), path, row_group_size=128)
    table = pq.read_table(path)
    expected = {name: table.column(name).to_numpy() for name in table.column_names}

    chunks = list(reading.read_chunks(path, chunk_rows=chunk_rows))

    assert [len(chunk["age"]) for chunk in chunks[:-1]] == [chunk_rows] * (len(chunks) - 1)
    assert_same_columns(concatenated(chunks), expected)


def test_chunks_hold_numpy_arrays_with_missing_values_as_nan_or_none(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_text('n,x,text,flag\n1,1.5,a,true\n,,,\n3,NaN,"",false\n4,2,NA,true\n')

    (chunk,) = reading.read_chunks(path)

    assert chunk["n"].dtype == np.float64  # an integer column with a missing value
    np.testing.assert_array_equal(chunk["n"], [1, np.nan, 3, 4])
    np.testing.assert_array_equal(chunk["x"], [1.5, np.nan, np.nan, 2.0])
    # Only an empty field is missing; "NA" is text (Namibia, say).
    assert chunk["text"].tolist() == ["a", None, None, "NA"]
    assert chunk["flag"].tolist() == [True, None, False, True]


def test_columns_are_read_in_the_order_asked(tmp_path: Path) -> None:
    path = write_csv(sample_table(10), tmp_path / "a.csv")

    (chunk,) = reading.read_chunks(path, columns=["sex", "age"])

    assert list(chunk) == ["sex", "age"]


def test_a_missing_column_is_refused_with_the_missing_and_the_available_ones(
    tmp_path: Path,
) -> None:
    path = write_csv(sample_table(10), tmp_path / "a.csv")

    with pytest.raises(ValueError, match="missing columns 'gender', 'label'") as caught:
        reading.read_chunks(path, columns=["age", "gender", "label"])

    assert "available: 'age', 'income', 'sex', 'approved'" in str(caught.value)


def test_a_csv_file_that_is_really_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "applications.csv"
    pq.write_table(sample_table(10), path)

    with pytest.raises(ValueError, match=r"applications\.csv: expected csv .* looks like Parquet"):
        reading.read_chunks(path)
    with pytest.raises(ValueError, match="looks like Parquet"):
        reading.read_header(path)


def test_a_parquet_file_that_is_really_csv_is_refused(tmp_path: Path) -> None:
    path = write_csv(sample_table(10), tmp_path / "applications.parquet")

    with pytest.raises(ValueError, match=r"applications\.parquet: expected parquet .* CSV text"):
        reading.read_chunks(path)


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"PAR1" + b"\x00" * 20, "a truncated Parquet file"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip-compressed data"),
        (b"a,b\n\x00\x01\x02", "binary data"),
        (b"a,b\n\xff\xfe,1\n" + b"x" * 10, "text that is not UTF-8"),
    ],
)
def test_content_that_is_neither_csv_nor_parquet_is_named_in_the_refusal(
    tmp_path: Path, content: bytes, looks_like: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=f"upload.csv: .*looks like {looks_like}"):
        reading.read_chunks(path)


def test_a_corrupt_parquet_file_and_an_empty_csv_file_are_refused(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1" + b"\x00garbage" * 10 + b"\x05\x00\x00\x00PAR1")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    with pytest.raises(ValueError, match=r"corrupt\.parquet: cannot read the parquet header"):
        reading.read_chunks(corrupt)
    with pytest.raises(ValueError, match=r"empty\.csv: cannot read the csv header: Empty CSV"):
        reading.read_chunks(empty)


def test_a_file_without_a_known_suffix_is_read_by_its_content(tmp_path: Path) -> None:
    parquet = tmp_path / "export.bin"
    pq.write_table(sample_table(10), parquet)
    text = write_csv(sample_table(10), tmp_path / "export.txt")

    assert reading.detect_format(parquet) == "parquet"
    assert reading.detect_format(text) == "csv"
    assert len(next(reading.read_chunks(parquet))["age"]) == 10
    with pytest.raises(ValueError, match="expected parquet"):
        reading.read_chunks(text, format="parquet")


def test_the_header_is_read_without_reading_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    # A malformed row far below the header does not matter to the header.
    path.write_text('id,"name, full",score\n' + "1,a,0.5\n" * 200_000 + "2,b\n")
    parquet = tmp_path / "a.parquet"
    pq.write_table(sample_table(10), parquet)

    assert reading.read_header(path) == ["id", "name, full", "score"]
    assert reading.read_header(parquet) == ["age", "income", "sex", "approved"]
    with pytest.raises(ValueError, match=r"a\.csv: cannot be read: .*Expected 3 columns"):
        list(reading.read_chunks(path))


def test_a_column_whose_type_changes_after_the_first_block_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CSV_INFER_BYTES", 1024)
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 1024)
    path = tmp_path / "late.csv"
    path.write_text("name,code\n" + "a,1\n" * 2000 + "b,A7\n")

    with pytest.raises(
        ValueError, match=r"late\.csv: column 'code' cannot be read: .*conversion error to int64"
    ) as caught:
        list(reading.read_chunks(path, columns=["code"]))

    assert "inferred from the first 1,024 bytes" in str(caught.value)


def test_column_types_come_from_the_first_megabytes_not_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 1024)
    path = tmp_path / "codes.csv"
    path.write_text("code,note\n" + '1,"two\nlines"\n' * 2000 + "A7,x\n")

    chunks = list(reading.read_chunks(path, chunk_rows=500))

    codes = np.concatenate([chunk["code"] for chunk in chunks])
    assert codes.dtype == object
    assert codes[-2:].tolist() == ["1", "A7"]
    assert chunks[0]["note"][0] == "two\nlines"


def test_columns_named_twice_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("a,b,a\n1,2,3\n")

    with pytest.raises(ValueError, match="columns named more than once: 'a'"):
        reading.read_header(path)


def test_a_nested_parquet_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"tags": [["a"], ["b", "c"]]}), path)

    with pytest.raises(ValueError, match="column 'tags' has the nested type"):
        list(reading.read_chunks(path))


def test_a_dictionary_encoded_parquet_column_is_read_as_its_values(tmp_path: Path) -> None:
    path = tmp_path / "dict.parquet"
    pq.write_table(pa.table({"sex": pa.array(["f", "m", None, "f"]).dictionary_encode()}), path)

    (chunk,) = reading.read_chunks(path)

    assert chunk["sex"].tolist() == ["f", "m", None, "f"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_chunk_rows_must_be_a_positive_integer(tmp_path: Path, bad: Any) -> None:
    path = write_csv(sample_table(10), tmp_path / "a.csv")

    with pytest.raises(ValueError, match=f"chunk_rows must be an integer >= 1, got {bad!r}"):
        reading.read_chunks(path, chunk_rows=bad)


def test_a_file_with_only_a_header_gives_no_chunk(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n")

    assert list(reading.read_chunks(path)) == []


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nowhere\.csv: cannot be read"):
        reading.read_chunks(tmp_path / "nowhere.csv")


# The peak resident memory of this process's own address space. ru_maxrss would not do: Linux
# carries the parent's peak into a child across exec.
PEAK_SCRIPT = textwrap.dedent(
    """
    import sys
    from evaluations.assessments import reading

    def peak_kib():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1])

    before = peak_kib()
    rows = 0
    for chunk in reading.read_chunks(sys.argv[1], chunk_rows=int(sys.argv[2])):
        rows += len(chunk["id"])
    print(rows, peak_kib() - before)
    """
)


def peak_kib(path: Path, chunk_rows: int) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path), str(chunk_rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    rows, grown = result.stdout.split()
    return int(rows), int(grown)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_reading_a_million_rows_in_chunks_holds_far_less_memory_than_a_whole_read(
    tmp_path: Path,
) -> None:
    rows = 1_000_000
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "id": np.arange(rows),
            "income": rng.normal(50_000, 15_000, rows).round(2),
            "score": rng.random(rows),
            "sex": rng.choice(np.array(["female", "male"], dtype=object), rows),
            "region": rng.choice(np.array(["north", "south", "east", "west"], dtype=object), rows),
        }
    )
    path = write_csv(table, tmp_path / "large.csv")

    streamed = peak_kib(path, 16_384)
    whole = peak_kib(path, rows)

    assert streamed[0] == whole[0] == rows
    # Whole: about 300 MiB of arrays and strings. In chunks: about 130 MiB that do not grow
    # with the rows (pyarrow reads up to 32 blocks ahead, plus threads and one chunk), measured
    # the same at 4M rows.
    assert whole[1] > 200 * 1024, whole
    assert streamed[1] < 0.6 * whole[1], (streamed, whole)
