"""Evidence schemas, document validation and metric paths (docs/evidence.md).

The examples in fixtures/evidence/ are what a CI pipeline or an importer submits; each test
changes one thing in an example and expects riskreg to point at exactly that place.
"""

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from evaluations import paths
from evaluations.paths import PATH_SYNTAX, PathError, select
from evaluations.validation import (
    CURRENT_VERSION,
    DIRECTION,
    KINDS,
    SchemaIssue,
    UnknownKindError,
    higher_is_better,
    schema_for,
    validate_document,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "evidence"
MEASUREMENT_KINDS = [kind for kind in KINDS if kind != "document"]
NOT_FINITE = [float("nan"), float("inf"), float("-inf")]

# Per kind, one count, one rate and one metric object of its example (None: the kind has none).
COUNT_AT = {
    "fairness": "/metrics/overall/size",
    "calibration": "/metrics/bins/3/count",
    "robustness": "/metrics/size",
    "performance": "/metrics/size",
    "efficiency": "/metrics/parameter_count",
    "data_quality": "/metrics/datasets/1/missing/income/count",
    "document": "/attachments/0/size",
}
RATE_AT = {
    "fairness": "/metrics/breakdowns/2/groups/3/true_positive_rate",
    "calibration": "/metrics/bins/2/observed_frequency",
    "robustness": "/metrics/perturbations/1/points/0/accuracy",
    "performance": "/metrics/scores/rouge_l",
    "efficiency": None,
    "data_quality": "/metrics/drift/0/columns/age/ks_statistic",
    "document": None,
}
METRIC_AT = {
    "fairness": "/metrics/overall/selection_rate",
    "calibration": "/metrics/expected_calibration_error",
    "robustness": "/metrics/clean_accuracy",
    "performance": "/metrics/scores/rouge_l",
    "efficiency": "/metrics/latency/0/p95_ms",
    "data_quality": None,
    "document": None,
}


def example(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{kind}.json").read_text("utf-8"))
    return document


def put(document: Any, pointer: str, value: Any) -> None:
    """Set the value at pointer (its parent must exist)."""
    *parents, last = paths.parse(pointer)
    target = document
    for segment in parents:
        target = target[int(segment) if isinstance(target, list) else segment]
    target[int(last) if isinstance(target, list) else last] = value


def pointers(issues: list[SchemaIssue]) -> list[str]:
    return [issue.pointer for issue in issues]


def kinds_with(table: dict[str, str | None]) -> list[tuple[str, str]]:
    return [(kind, at) for kind, at in table.items() if at is not None]


# The examples and the schemas.


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_in_fixtures_is_valid(kind):
    assert validate_document(example(kind)) == []


def test_the_fairness_example_is_valid_as_riskregs_own_assessment():
    assert validate_document(example("fairness"), computed=True) == []


def test_the_policy_example_lists_its_attachment_exactly():
    entry = example("document")["attachments"][0]
    data = (FIXTURES / "attachments" / entry["name"]).read_bytes()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["size"] == len(data)
    assert entry["media_type"] == "text/markdown"


@pytest.mark.parametrize("kind", KINDS)
def test_every_served_schema_is_a_valid_draft_2020_12_schema(kind):
    schema = schema_for(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:riskreg:evidence:{kind}:{CURRENT_VERSION[kind]}"
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_served_schema_stands_alone(kind):
    schema = schema_for(kind)
    refs = [value for at, value in paths.walk(schema) if at.endswith("/$ref")]
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert select(schema, ref[1:]), f"{ref} resolves to nothing"


@pytest.mark.parametrize("kind", KINDS)
def test_every_metric_in_a_schema_states_its_direction(kind):
    metric_defs = {
        f"#/$defs/{name}"
        for name in (
            "metric",
            "nullable_metric",
            "rate",
            "nullable_rate",
            "nonnegative",
            "nullable_nonnegative",
            "rate_score",
            "nonnegative_score",
            "plain_score",
        )
    }
    # A count_rate takes its direction from where it is used (missing values: lower).
    shared = {"/$defs/count_rate/properties"}
    schema = schema_for(kind)
    for at, properties in paths.walk(schema):
        if not at.endswith("/properties") or at in shared:
            continue
        for name, subschema in properties.items():
            if isinstance(subschema, dict) and subschema.get("$ref") in metric_defs:
                assert DIRECTION in subschema, f"{at}/{name} states no direction"


def test_the_envelope_knows_exactly_the_kinds_riskreg_validates():
    envelope = schema_for("document")["$defs"]["envelope"]
    assert tuple(envelope["properties"]["kind"]["enum"]) == KINDS


def test_changing_a_served_schema_does_not_change_validation():
    schema_for("fairness")["$defs"]["rate_number"]["maximum"] = 100
    assert schema_for("fairness")["$defs"]["rate_number"]["maximum"] == 1
    document = example("fairness")
    put(document, RATE_AT["fairness"], 50)
    assert pointers(validate_document(document)) == [RATE_AT["fairness"]]


def test_asking_for_an_unknown_kind_or_version_names_it():
    with pytest.raises(UnknownKindError, match="'fairnes'"):
        schema_for("fairnes")
    with pytest.raises(UnknownKindError, match=r"'9\.9' of fairness"):
        schema_for("fairness", "9.9")
    assert schema_for("fairness", "1.0") == schema_for("fairness")


# What every kind refuses.


@pytest.mark.parametrize("bad", NOT_FINITE, ids=repr)
@pytest.mark.parametrize(("kind", "at"), kinds_with(COUNT_AT))
def test_nan_and_infinities_are_refused_where_they_stand(kind, at, bad):
    document = example(kind)
    put(document, at, bad)
    issues = validate_document(document)
    assert issues == [SchemaIssue(at, "must be a finite number (not NaN or infinite)")]


@pytest.mark.parametrize(("kind", "at"), kinds_with(COUNT_AT))
def test_a_negative_count_is_refused(kind, at):
    document = example(kind)
    put(document, at, -1)
    assert pointers(validate_document(document)) == [at]


@pytest.mark.parametrize(("kind", "at"), kinds_with(RATE_AT))
def test_a_rate_above_one_is_refused(kind, at):
    document = example(kind)
    put(document, at, 1.2)
    (issue,) = validate_document(document)
    assert issue == SchemaIssue(at, "1.2 is greater than the maximum of 1")


@pytest.mark.parametrize(("kind", "at"), kinds_with(METRIC_AT))
def test_an_interval_whose_low_exceeds_its_high_is_refused(kind, at):
    document = example(kind)
    put(
        document,
        at,
        {"value": 0.5, "interval": {"low": 0.7, "high": 0.6, "level": 0.9, "method": "t"}},
    )
    issues = validate_document(document)
    assert issues == [SchemaIssue(f"{at}/interval", "low must not be greater than high")]


def test_an_interval_may_miss_its_value():
    document = example("robustness")
    bounds = {"low": 0.93, "high": 0.95, "level": 0.95, "method": "bootstrap"}
    put(document, "/metrics/clean_accuracy", {"value": 0.9, "interval": bounds})
    assert validate_document(document) == []


def test_an_interval_level_must_lie_strictly_between_zero_and_one():
    document = example("fairness")
    put(document, "/metrics/overall/selection_rate/interval/level", 1)
    assert pointers(validate_document(document)) == [
        "/metrics/overall/selection_rate/interval/level"
    ]


def test_rate_interval_bounds_must_lie_in_zero_to_one():
    document = example("fairness")
    put(document, "/metrics/overall/accuracy/interval/high", 1.01)
    assert pointers(validate_document(document)) == ["/metrics/overall/accuracy/interval/high"]


def test_robustness_input_bounds_must_not_be_reversed():
    document = example("robustness")
    put(document, "/metrics/perturbations/0/input_bounds", {"low": 1, "high": 0})
    assert pointers(validate_document(document)) == ["/metrics/perturbations/0/input_bounds"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_top_level_field_is_refused(kind):
    document = example(kind)
    document["colour"] = "blue"
    (issue,) = validate_document(document)
    assert issue.pointer == ""
    assert "'colour' was unexpected" in issue.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_required_field_is_refused(kind):
    document = example(kind)
    body = "document" if kind == "document" else "metrics"
    del document[body]
    assert validate_document(document) == [SchemaIssue("", f"'{body}' is a required property")]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_kind_is_refused_at_kind(kind):
    document = example(kind)
    document["kind"] = "fairnes"
    (issue,) = validate_document(document)
    assert issue.pointer == "/kind"
    assert "'fairnes' is not one of fairness, calibration" in issue.message


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_schema_version_is_refused_at_schema_version(kind):
    document = example(kind)
    document["schema_version"] = "9.9"
    assert validate_document(document) == [
        SchemaIssue("/schema_version", f"'9.9' is not a version of {kind} (known: 1.0)")
    ]


def test_a_document_without_a_kind_or_version_is_refused():
    document = example("fairness")
    del document["schema_version"]
    assert validate_document(document) == [
        SchemaIssue("", "'schema_version' is a required property")
    ]
    del document["kind"]
    assert validate_document(document) == [SchemaIssue("", "'kind' is a required property")]


@pytest.mark.parametrize("not_an_object", [[], "fairness", None, 3])
def test_a_document_that_is_not_an_object_is_one_issue(not_an_object):
    assert validate_document(not_an_object) == [SchemaIssue("", "must be a JSON object")]


# The envelope.


@pytest.mark.parametrize("kind", MEASUREMENT_KINDS)
def test_a_measurement_without_a_system_is_refused(kind):
    document = example(kind)
    document["system"] = None
    document.pop("model_version", None)
    assert validate_document(document) == [SchemaIssue("/system", "null is not of type 'string'")]


def test_an_organisation_wide_document_names_no_model_version():
    document = example("document")
    document["model_version"] = "4.3.0"
    assert pointers(validate_document(document)) == ["/model_version"]


def test_a_document_needs_at_least_one_attachment():
    document = example("document")
    document["attachments"] = []
    assert pointers(validate_document(document)) == ["/attachments"]
    del document["attachments"]
    assert validate_document(document) == [SchemaIssue("", "'attachments' is a required property")]


def test_a_document_item_carries_no_metrics():
    document = example("document")
    document["metrics"] = {}
    assert pointers(validate_document(document)) == [""]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("system", "credit-scoring\n"),
        ("system", "credit scoring"),
        ("model_version", ".4.3"),
        ("context", "production"),
        ("effective_date", "2026-02-30"),
        ("effective_date", "2026-3-2"),
        ("expiry_date", "02/09/2026"),
        ("supersedes", "not-a-uuid"),
    ],
)
def test_envelope_fields_out_of_shape_are_refused(field, value):
    document = example("fairness")
    document[field] = value
    assert pointers(validate_document(document)) == [f"/{field}"]


def test_a_dataset_reference_names_slug_and_split_only():
    document = example("fairness")
    document["datasets"][0]["version"] = "2025.03"
    assert pointers(validate_document(document)) == ["/datasets/0"]


def test_an_attachment_digest_is_64_lowercase_hex_digits():
    document = example("document")
    document["attachments"][0]["sha256"] = document["attachments"][0]["sha256"].upper()
    assert pointers(validate_document(document)) == ["/attachments/0/sha256"]


# Kind-specific rules.


def test_a_score_outside_the_known_names_must_state_its_direction():
    document = example("performance")
    document["metrics"]["scores"]["gini"] = 0.62
    assert pointers(validate_document(document)) == ["/metrics/scores/gini"]
    document["metrics"]["scores"]["gini"] = {"value": 0.62, "higher_is_better": True}
    assert validate_document(document) == []


def test_a_known_score_may_restate_its_direction_but_not_contradict_it():
    document = example("performance")
    document["metrics"]["scores"]["log_loss"] = {"value": 0.41, "higher_is_better": False}
    assert validate_document(document) == []
    document["metrics"]["scores"]["log_loss"]["higher_is_better"] = True
    assert pointers(validate_document(document)) == ["/metrics/scores/log_loss/higher_is_better"]


def test_a_score_name_with_odd_characters_is_refused():
    document = example("performance")
    document["metrics"]["scores"]["f1\nmacro"] = {"value": 0.5, "higher_is_better": True}
    assert pointers(validate_document(document)) == ["/metrics/scores"]


def test_a_robustness_point_gives_a_budget_or_a_severity_not_both():
    document = example("robustness")
    document["metrics"]["perturbations"][0]["points"][0]["severity"] = 2
    del document["metrics"]["perturbations"][1]["points"][0]["budget"]
    assert pointers(validate_document(document)) == [
        "/metrics/perturbations/0/points/0",
        "/metrics/perturbations/1/points/0",
    ]


def test_the_fairness_overall_metrics_carry_no_group():
    document = example("fairness")
    document["metrics"]["overall"]["group"] = {"sex": "female"}
    assert pointers(validate_document(document)) == ["/metrics/overall"]


def test_a_submitted_fairness_group_may_leave_out_counts_and_rates():
    document = example("fairness")
    group = document["metrics"]["breakdowns"][0]["groups"][0]
    for name in ("tp", "fp", "tn", "fn", "accuracy", "positive_predictive_value"):
        del group[name]
    assert validate_document(document) == []


def test_riskregs_own_fairness_assessment_must_give_every_count():
    document = example("fairness")
    del document["metrics"]["breakdowns"][1]["groups"][0]["fn"]
    del document["metrics"]["overall"]["tp"]
    assert validate_document(document) == []
    issues = validate_document(document, computed=True)
    assert pointers(issues) == ["/metrics/breakdowns/1/groups/0", "/metrics/overall"]
    assert "missing: fn" in issues[0].message


def test_riskregs_own_fairness_counts_must_add_up_to_the_size():
    document = example("fairness")
    document["metrics"]["breakdowns"][0]["groups"][1]["tn"] += 1
    assert validate_document(document) == []
    assert validate_document(document, computed=True) == [
        SchemaIssue("/metrics/breakdowns/0/groups/1", "tp + fp + tn + fn must equal size")
    ]


def test_drift_of_a_categorical_column_may_give_psi_alone_but_something():
    document = example("data_quality")
    document["metrics"]["drift"][0]["columns"]["region"] = {"psi": 0.02}
    assert validate_document(document) == []
    document["metrics"]["drift"][0]["columns"]["region"] = {}
    assert pointers(validate_document(document)) == ["/metrics/drift/0/columns/region"]


# Several problems, and how they are told.


def test_several_problems_are_all_reported_in_pointer_order():
    document = example("fairness")
    document["colour"] = "blue"
    groups = document["metrics"]["breakdowns"][2]["groups"]
    groups.extend(copy.deepcopy(groups[0]) for _ in range(8))
    groups[10]["size"] = -3
    groups[2]["selection_rate"] = float("nan")
    document["metrics"]["overall"]["accuracy"]["interval"]["low"] = 0.9
    document["context"] = "production"
    assert pointers(validate_document(document)) == [
        "",
        "/context",
        "/metrics/breakdowns/2/groups/2/selection_rate",
        "/metrics/breakdowns/2/groups/10/size",
        "/metrics/overall/accuracy/interval",
    ]


def test_messages_do_not_echo_huge_values():
    document = example("document")
    document["document"]["title"] = "x" * 100_000
    (issue,) = validate_document(document)
    assert issue.pointer == "/document/title"
    assert len(issue.message) <= 200
    assert "is too long" in issue.message


def test_keys_that_merge_under_unicode_normalisation_are_refused():
    document = example("data_quality")
    document["metrics"]["datasets"][0]["missing"]["cafe\u0301"] = {"count": 1, "rate": 0.0}
    document["metrics"]["datasets"][0]["missing"]["caf\u00e9"] = {"count": 1, "rate": 0.0}
    assert pointers(validate_document(document)) == ["/metrics/datasets/0/missing"]


def test_integers_beyond_what_json_numbers_hold_exactly_are_refused():
    document = example("efficiency")
    document["metrics"]["parameter_count"] = 2**53
    assert pointers(validate_document(document)) == ["/metrics/parameter_count"]


# Paths.


def test_a_concrete_path_selects_one_value():
    document = example("fairness")
    assert select(document, "/metrics/breakdowns/0/groups/1/size") == [
        ("/metrics/breakdowns/0/groups/1/size", 1199)
    ]


def test_a_wildcard_over_an_array_selects_every_element_in_order():
    document = example("fairness")
    assert select(document, "/metrics/breakdowns/*/demographic_parity_ratio") == [
        ("/metrics/breakdowns/0/demographic_parity_ratio", 0.9941),
        ("/metrics/breakdowns/1/demographic_parity_ratio", 0.8785),
        ("/metrics/breakdowns/2/demographic_parity_ratio", 0.8771),
    ]
    sizes = select(document, "/metrics/breakdowns/*/groups/*/size")
    assert [size for _, size in sizes] == [801, 1199, 240, 1760, 41, 760, 199, 1000]
    assert sizes[4][0] == "/metrics/breakdowns/2/groups/0/size"


def test_a_wildcard_over_an_object_selects_every_member_in_order():
    document = example("data_quality")
    assert select(document, "/metrics/datasets/1/missing/*/count") == [
        ("/metrics/datasets/1/missing/income/count", 44),
        ("/metrics/datasets/1/missing/employment_length/count", 151),
        ("/metrics/datasets/1/missing/age/count", 0),
    ]


def test_escaped_segments_select_names_holding_slash_and_tilde():
    document = example("performance")
    ((at, score),) = select(document, "/metrics/scores/truthful~1judge/value")
    assert at == "/metrics/scores/truthful~1judge/value"
    assert score == 0.6144
    assert select({"a~b": {"c/d": 1}}, "/a~0b/c~1d") == [("/a~0b/c~1d", 1)]
    assert select({"a~1b": 2}, "/a~01b") == [("/a~01b", 2)]


@pytest.mark.parametrize(
    "path",
    [
        "/metrics/nowhere",
        "/metrics/breakdowns/3",
        "/metrics/breakdowns/-",
        "/metrics/breakdowns/01",
        "/metrics/breakdowns/x",
        "/metrics/sensitive_features/0/*",
        "/metrics/breakdowns/99999999999999999999999",
    ],
)
def test_a_path_that_finds_nothing_selects_nothing(path):
    assert select(example("fairness"), path) == []


def test_the_empty_path_selects_the_whole_document():
    document = example("document")
    assert select(document, "") == [("", document)]


@pytest.mark.parametrize("path", ["metrics/overall", "/metrics/a~2b", "/metrics/a~", "~1"])
def test_a_malformed_path_is_refused_with_its_name(path):
    with pytest.raises(PathError, match=re.escape(repr(path))):
        select({}, path)


def test_the_published_path_examples_select_what_they_say():
    document = example("fairness")
    for entry in PATH_SYNTAX["examples"]:
        paths.parse(entry["path"])
        if "pointer" in entry:
            assert entry["pointer"] in [at for at, _ in select(document, entry["path"])]
    assert json.loads(json.dumps(PATH_SYNTAX)) == PATH_SYNTAX
    assert PATH_SYNTAX["rfc"] == "RFC 6901"
    assert PATH_SYNTAX["wildcard"] == "*"


# Directions.


@pytest.mark.parametrize(
    ("kind", "pointer", "expected"),
    [
        ("fairness", "/metrics/breakdowns/0/demographic_parity_ratio", True),
        ("fairness", "/metrics/breakdowns/*/equalized_odds_difference", False),
        ("fairness", "/metrics/breakdowns/*/groups/*/selection_rate", None),
        ("fairness", "/metrics/breakdowns/2/groups/3/true_positive_rate", True),
        ("fairness", "/metrics/overall/false_positive_rate/interval/high", False),
        ("calibration", "/metrics/brier_score_loss", False),
        ("calibration", "/metrics/breakdowns/0/largest_gap/log_loss", False),
        ("robustness", "/metrics/perturbations/0/points/2/decision_flip_rate", False),
        ("robustness", "/metrics/clean_accuracy/value", True),
        ("performance", "/metrics/scores/accuracy", True),
        ("performance", "/metrics/scores/wer", False),
        ("efficiency", "/metrics/latency/0/throughput_per_s", True),
        ("efficiency", "/metrics/cost_per_1000_inferences/amount", False),
        ("data_quality", "/metrics/datasets/0/missing/income/rate", False),
        ("data_quality", "/metrics/drift/0/columns/age/ks_p_value", True),
        ("data_quality", "/metrics/datasets/0/label_balance/repaid/rate", None),
    ],
)
def test_the_schema_says_which_direction_is_better(kind, pointer, expected):
    assert higher_is_better(kind, pointer) is expected


@pytest.mark.parametrize(
    ("kind", "pointer"),
    [
        ("performance", "/metrics/scores/truthful~1judge"),
        ("fairness", "/metrics/sensitive_features/0"),
        ("fairness", "/metrics/nowhere"),
        ("document", "/document/title"),
    ],
)
def test_a_pointer_without_a_direction_is_a_key_error(kind, pointer):
    with pytest.raises(KeyError):
        higher_is_better(kind, pointer)


def test_directions_of_an_unknown_kind_are_refused():
    with pytest.raises(UnknownKindError):
        higher_is_better("fairnes", "/metrics")
