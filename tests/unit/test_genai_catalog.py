"""The NIST AI 600-1 risk catalog shipped in fixtures/ matches NIST and is in our own words."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from controls.genai import (
    GENAI_PATH,
    GenAIRisk,
    genai_risks,
    genai_risks_for_subcategory,
    genai_risks_read,
)
from controls.services import CATALOG_PATH, catalog_read

REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "nist-ai-600-1-genai-risks.yaml"
)
needs_reference = pytest.mark.skipif(
    not REFERENCE.exists(), reason="the shared NIST reference is beside the repo only"
)


@pytest.fixture(scope="module")
def reference() -> list[dict[str, Any]]:
    risks: list[dict[str, Any]] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["risks"]
    return risks


@pytest.fixture
def raw() -> dict[str, Any]:
    """The shipped file as plain data, for a test to break and write elsewhere."""
    data: dict[str, Any] = yaml.safe_load(GENAI_PATH.read_text(encoding="utf-8"))
    return data


def test_catalog_has_12_risks_numbered_in_section_order() -> None:
    risks = genai_risks()
    assert [r.number for r in risks] == list(range(1, 13))
    assert [r.section for r in risks] == [f"2.{n}" for n in range(1, 13)]
    assert all(isinstance(r, GenAIRisk) for r in risks)


@needs_reference
def test_catalog_titles_and_subcategories_equal_the_reference_in_its_order(
    reference: list[dict[str, Any]],
) -> None:
    risks = genai_risks()
    assert [r.id for r in risks] == [ref["id"] for ref in reference]
    for risk, ref in zip(risks, reference, strict=True):
        assert risk.title == ref["title"]
        assert risk.number == ref["number"]
        assert risk.section == ref["section"]
        assert list(risk.subcategories) == ref["ai_rmf_subcategories"], risk.id
        assert list(risk.characteristics) == ref["trustworthy_characteristic_ids"], risk.id
        assert risk.page == ref["pdf_page"] - 4  # printed page of the Section 2 definition


def test_every_subcategory_named_exists_in_the_ai_rmf_catalog() -> None:
    known = {s["id"] for s in catalog_read(CATALOG_PATH)["subcategories"]}
    named = {s for r in genai_risks() for s in r.subcategories}
    assert named <= known
    assert len(named) == 49  # AI 600-1 has actions under 49 of the 72 subcategories


@needs_reference
def test_descriptions_share_no_run_of_8_words_with_nist_definitions(
    reference: list[dict[str, Any]],
) -> None:
    definitions = {ref["id"]: ref["definition"] for ref in reference}
    for risk in genai_risks():
        assert _longest_shared_run(risk.description, definitions[risk.id]) < 8, risk.id


def test_loader_refuses_an_unknown_subcategory_naming_file_and_entry(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    raw["risks"][4]["subcategories"].append("MEASURE 2.14")
    path = _write(tmp_path, raw)
    known = {s["id"] for s in catalog_read(CATALOG_PATH)["subcategories"]}
    with pytest.raises(ValueError, match=re.escape("'MEASURE 2.14'")) as caught:
        genai_risks_read(path, subcategory_ids=known)
    _assert_names(caught.value, path, "environmental-impacts")


def test_loader_refuses_a_malformed_subcategory_id_even_without_a_catalog(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    raw["risks"][0]["subcategories"][0] = "GV-1.2"
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError, match=re.escape("'GV-1.2'")) as caught:
        genai_risks_read(path)
    _assert_names(caught.value, path, "cbrn")


def test_loader_refuses_a_duplicate_id_naming_file_and_entry(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    raw["risks"][1]["id"] = "cbrn"
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError, match="duplicate id") as caught:
        genai_risks_read(path)
    _assert_names(caught.value, path, "cbrn")


def test_loader_refuses_a_missing_field_naming_file_and_entry(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    del raw["risks"][2]["description"]
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError, match=r"missing field.*description") as caught:
        genai_risks_read(path)
    _assert_names(caught.value, path, "dangerous-violent-hateful-content")


def test_loader_refuses_an_extra_field_naming_file_and_entry(
    raw: dict[str, Any], tmp_path: Path
) -> None:
    raw["risks"][3]["definition"] = "NIST's sentence does not belong here."
    path = _write(tmp_path, raw)
    with pytest.raises(ValueError, match=r"unexpected field.*definition") as caught:
        genai_risks_read(path)
    _assert_names(caught.value, path, "data-privacy")


def test_risks_for_measure_2_11_are_those_whose_lists_contain_it() -> None:
    found = genai_risks_for_subcategory("MEASURE 2.11")
    assert found == tuple(r for r in genai_risks() if "MEASURE 2.11" in r.subcategories)
    assert [r.id for r in found] == [
        "dangerous-violent-hateful-content",
        "environmental-impacts",
        "harmful-bias-homogenization",
    ]


def test_risks_for_a_subcategory_without_actions_are_none() -> None:
    assert genai_risks_for_subcategory("MANAGE 1.1") == ()


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "genai-broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _assert_names(error: ValueError, path: Path, risk_id: str) -> None:
    assert str(path) in str(error)
    assert repr(risk_id) in str(error)


def _longest_shared_run(ours: str, theirs: str) -> int:
    a = [w.strip(".,;:()“”\"'").lower() for w in ours.split()]
    b = [w.strip(".,;:()“”\"'").lower() for w in theirs.split()]
    best = 0
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            best = max(best, k)
    return best
