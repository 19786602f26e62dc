"""The mapping rules and the judging of one value, without a database."""

from pathlib import Path

import pytest
import yaml

from controls.engine.judge import Reading, judge, reading
from controls.engine.rules import RuleFileError, rules_read
from controls.engine.status import Status, worst
from controls.services.catalog import catalog_read

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "controls" / "rules.yaml"
SUBCATEGORIES = [s["id"] for s in catalog_read()["subcategories"]]
GOOD_METRIC = {
    "id": "fairness.dpr",
    "kind": "fairness",
    "metric": "/metrics/breakdowns/*/demographic_parity_ratio",
    "compare": "at_least",
    "threshold": 0.8,
    "band": 0.05,
    "range": [0, 1],
    "origin": "Four-fifths rule.",
    "subcategories": ["MEASURE 2.11"],
}


def write(
    tmp_path: Path, metric: list[dict[str, object]], presence: list[object] | None = None
) -> Path:
    path = tmp_path / "rules.yaml"
    body = {"version": "t", "metric_rules": metric, "presence_rules": presence or []}
    path.write_text(yaml.safe_dump(body))
    return path


def test_the_default_rules_load_and_every_threshold_names_its_origin() -> None:
    rules = rules_read(DEFAULT_RULES, subcategory_ids=SUBCATEGORIES)

    assert len(rules.metric_rules) >= 10
    assert all(r.origin for r in rules.metric_rules)
    assert all(r.origin for r in rules.presence_rules)
    assert rules.label.startswith("2026.11+")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "sentiment"}, "unknown evidence kind 'sentiment'"),
        ({"metric": "/metrics/breakdowns/*/no_such_ratio"}, "is not in the fairness schema"),
        ({"subcategories": ["MEASURE 9.9"]}, "unknown subcategory 'MEASURE 9.9'"),
        ({"compare": "at_most"}, "does not fit"),
        ({"threshold": 1.5}, "threshold 1.5 lies outside [0, 1]"),
        ({"band": 0.9}, "band 0.9 reaches outside [0, 1]"),
        ({"origin": " "}, "origin must say where it comes from"),
        ({"colour": "red"}, "unknown fields ['colour']"),
    ],
    ids=[
        "unknown kind",
        "unknown metric path",
        "unknown subcategory",
        "direction against the schema",
        "threshold out of range",
        "band out of range",
        "no origin",
        "extra field",
    ],
)
def test_a_bad_rule_file_refuses_to_load_naming_file_and_entry(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = write(tmp_path, [GOOD_METRIC | change])

    with pytest.raises(RuleFileError) as refused:
        rules_read(path, subcategory_ids=SUBCATEGORIES)

    assert str(refused.value).startswith("rules.yaml: rule 'fairness.dpr': ")
    assert message in str(refused.value)


def test_a_presence_rule_with_an_unknown_document_type_refuses_to_load(tmp_path: Path) -> None:
    presence = {
        "id": "org.charter",
        "look_for": "document",
        "document_type": "charter",
        "scope": "organisation",
        "origin": "GOVERN 1.2.",
        "subcategories": ["GOVERN 1.2"],
    }
    with pytest.raises(RuleFileError, match=r"rule 'org\.charter': unknown document type"):
        rules_read(write(tmp_path, [], [presence]), subcategory_ids=SUBCATEGORIES)


def test_two_rules_with_one_id_refuse_to_load(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="the id is used twice"):
        rules_read(write(tmp_path, [GOOD_METRIC, GOOD_METRIC]), subcategory_ids=SUBCATEGORIES)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (Reading(0.85), Status.MET),
        (Reading(0.80), Status.MET),
        (Reading(0.77), Status.PARTIALLY_MET),
        (Reading(0.70), Status.NOT_MET),
        (Reading(0.81, 0.80, 0.90), Status.MET),
        (Reading(0.81, 0.75, 0.85), Status.INCONCLUSIVE),
        (Reading(0.78, 0.76, 0.79), Status.PARTIALLY_MET),
        (Reading(0.72, 0.70, 0.79), Status.NOT_MET),
    ],
    ids=[
        "value above",
        "value on the threshold",
        "value in the band",
        "value below the band",
        "interval above",
        "interval straddling",
        "interval inside the band",
        "interval reaching below the band",
    ],
)
def test_at_least_judges_values_and_intervals(found: Reading, expected: Status) -> None:
    assert judge(found, compare="at_least", threshold=0.8, band=0.05) == expected


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (Reading(0.08), Status.MET),
        (Reading(0.12), Status.PARTIALLY_MET),
        (Reading(0.2), Status.NOT_MET),
        (Reading(0.09, 0.05, 0.12), Status.INCONCLUSIVE),
        (Reading(0.13, 0.11, 0.14), Status.PARTIALLY_MET),
    ],
    ids=["below", "in the band", "above the band", "straddling", "inside the band"],
)
def test_at_most_is_the_mirror_image(found: Reading, expected: Status) -> None:
    assert judge(found, compare="at_most", threshold=0.1, band=0.05) == expected


def test_only_95_percent_intervals_are_read() -> None:
    ninety = {"value": 0.82, "interval": {"low": 0.7, "high": 0.9, "level": 0.9, "method": "w"}}
    ninety_five = {
        "value": 0.82,
        "interval": {"low": 0.7, "high": 0.9, "level": 0.95, "method": "w"},
    }

    assert reading(ninety) == Reading(0.82)
    assert reading(ninety_five) == Reading(0.82, 0.7, 0.9)
    assert reading(None) is None


def test_judge_refuses_an_unknown_comparison_or_a_negative_band() -> None:
    with pytest.raises(ValueError, match="'above'"):
        judge(Reading(1.0), compare="above", threshold=0.5)
    with pytest.raises(ValueError, match=r"-0\.1"):
        judge(Reading(1.0), compare="at_least", threshold=0.5, band=-0.1)


def test_the_worst_status_wins_and_nothing_is_not_assessed() -> None:
    assert worst(["met", "partially_met", "inconclusive"]) == Status.INCONCLUSIVE
    assert worst(["met", "not_met"]) == Status.NOT_MET
    assert worst([]) == Status.NOT_ASSESSED
