"""The OSCAL assessment-results export, checked by compliance-trestle's models and validators.

No database: controls.oscal is a pure function of plain dicts.
"""

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from trestle.core.duplicates_validator import DuplicatesValidator
from trestle.oscal import OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import AssessmentResults

from controls.oscal import PROP_NS, control_token, oscal_assessment_results

FAIRNESS_UID = "0b6a9c3e-5f0e-4a8e-9d1c-2f7b8a4e6c11"
POLICY_DOC_UID = "7d2e4f1a-3b5c-4d6e-8f90-a1b2c3d4e5f6"
ABSENT_UID = "99999999-9999-4999-8999-999999999999"  # cited by a rule, not in the export
GENERATED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def sample() -> dict[str, Any]:
    """A credit-scoring system: one unmet fairness subcategory, one met policy, one untouched."""
    return {
        "organisation": "Acme Lending Ltd",
        "system": {
            "slug": "credit-scoring",
            "name": "Credit scoring model",
            "description": "Scores consumer loan applications.\nUsed by underwriters.",
        },
        "posture": {
            "decided_at": "2026-11-19T17:00:00+00:00",
            "rules_version": "2026.3",
            "policy_version": 4,
            "subcategories": [
                {
                    "id": "MEASURE 2.11",
                    "function": "MEASURE",
                    "outcome": "Fairness and bias are evaluated and results documented.",
                    "status": "not_met",
                    "overridden": False,
                    "rationale": [
                        {
                            "rule": "fairness.demographic_parity",
                            "status": "not_met",
                            "evidence": [FAIRNESS_UID, ABSENT_UID],
                            "metric": "/metrics/overall/demographic_parity_difference",
                            "value": 0.142,
                            "threshold": 0.1,
                            "note": "above the organisation's threshold",
                        }
                    ],
                    "evidence": [FAIRNESS_UID],
                    "decided_at": "2026-11-19T17:00:00+00:00",
                },
                {
                    "id": "GOVERN 1.2",
                    "function": "GOVERN",
                    "outcome": "Trustworthy AI characteristics are in organisational policies.",
                    "status": "met",
                    "overridden": True,
                    "rationale": [
                        {
                            "rule": "presence.policy_document",
                            "status": "met",
                            "evidence": [POLICY_DOC_UID],
                            "metric": None,
                            "value": None,
                            "threshold": None,
                            "note": "",
                        }
                    ],
                    "evidence": [POLICY_DOC_UID],
                    "decided_at": None,
                },
                {
                    "id": "MAP 5.1",
                    "function": "MAP",
                    "outcome": "Likelihood and magnitude of impacts are identified.",
                    "status": "not_assessed",
                    "overridden": False,
                    "rationale": [],
                    "evidence": [],
                    "decided_at": None,
                },
            ],
        },
        "evidence": [
            {
                "uid": FAIRNESS_UID,
                "kind": "fairness",
                "effective_date": "2026-10-01",
                "document_sha256": "a" * 64,
                "attachments": [{"name": "group rates.csv", "sha256": "b" * 64}],
                "title": "Fairness on the October hold-out",
            },
            {
                "uid": POLICY_DOC_UID,
                "kind": "document",
                "effective_date": "2026-01-15",
                "document_sha256": "c" * 64,
                "attachments": [],
                "title": "AI policy v3",
            },
        ],
        "risks": [
            {
                "reference": "RSK-001",
                "title": "Unequal approval rates",
                "statement": "Applicants over 60 are approved less often.",
                "status": "treating",
                "level": "high",
            },
            {
                "reference": "RSK-002",
                "title": "Stale training data",
                "statement": "The model was trained on data from before 2024.",
                "status": "accepted",
                "level": "medium",
            },
        ],
        "generated_at": GENERATED_AT,
        "riskreg_version": "0.1.0",
    }


def export(inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return oscal_assessment_results(**(inputs or sample()))


def the_result(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["assessment-results"]["results"][0]
    return result


def findings_by_subcategory(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["target"]["title"]: f for f in the_result(doc)["findings"]}


def prop(node: dict[str, Any], name: str) -> str:
    values = [p["value"] for p in node.get("props", []) if p["name"] == name]
    assert len(values) == 1, f"{name} appears {len(values)} times"
    return str(values[0])


def test_auditor_loads_the_export_into_trestle_models_without_errors() -> None:
    model = AssessmentResults.model_validate(export()["assessment-results"])

    assert len(model.results) == 1


def test_auditor_finds_no_duplicate_uuid_with_trestles_validator() -> None:
    model = AssessmentResults.model_validate(export()["assessment-results"])

    assert DuplicatesValidator().model_is_valid(model, quiet=True)


def test_trestles_duplicate_check_fails_when_a_uuid_is_copied() -> None:
    doc = export()["assessment-results"]
    result = doc["results"][0]
    result["findings"][1]["uuid"] = result["observations"][0]["uuid"]
    model = AssessmentResults.model_validate(doc)

    assert not DuplicatesValidator().model_is_valid(model, quiet=True)


def test_trestle_reads_back_exactly_what_the_export_wrote() -> None:
    doc = export()["assessment-results"]
    model = AssessmentResults.model_validate(doc)

    assert model.oscal_dict() == {"assessment-results": doc}


def test_auditor_sees_the_oscal_version_trestle_models() -> None:
    metadata = export()["assessment-results"]["metadata"]

    assert re.fullmatch(OSCAL_VERSION_REGEX, metadata["oscal-version"])
    assert metadata["last-modified"] == "2026-11-20T09:30:00+00:00"
    assert metadata["title"] == "AI RMF posture of Credit scoring model"
    assert metadata["parties"][0]["name"] == "Acme Lending Ltd"
    assert prop(metadata, "riskreg-version") == "0.1.0"


def test_export_has_one_result_with_one_observation_per_evidence_item() -> None:
    doc = export()
    result = the_result(doc)

    assert len(doc["assessment-results"]["results"]) == 1
    assert result["start"] == "2026-11-20T09:30:00+00:00"
    methods = {prop(o, "evidence-uid"): o["methods"] for o in result["observations"]}
    assert methods == {FAIRNESS_UID: ["TEST"], POLICY_DOC_UID: ["EXAMINE"]}
    collected = {o["collected"] for o in result["observations"]}
    assert collected == {"2026-10-01T00:00:00+00:00", "2026-01-15T00:00:00+00:00"}
    hrefs = {o["relevant-evidence"][0]["href"] for o in result["observations"]}
    assert hrefs == {
        f"urn:riskreg:evidence:{FAIRNESS_UID}",
        f"urn:riskreg:evidence:{POLICY_DOC_UID}",
    }


def test_reviewed_controls_list_every_subcategory_as_a_token() -> None:
    selection = the_result(export())["reviewed-controls"]["control-selections"]

    ids = [c["control-id"] for c in selection[0]["include-controls"]]
    assert ids == ["measure-2.11", "govern-1.2", "map-5.1"]


@pytest.mark.parametrize(
    ("subcategory", "token"),
    [("MEASURE 2.11", "measure-2.11"), ("GOVERN 1.2", "govern-1.2"), (" map  5.1 ", "map-5.1")],
)
def test_subcategory_ids_become_oscal_tokens(subcategory: str, token: str) -> None:
    assert control_token(subcategory) == token


def test_not_assessed_subcategory_has_no_finding() -> None:
    findings = findings_by_subcategory(export())

    assert set(findings) == {"MEASURE 2.11", "GOVERN 1.2"}


def test_findings_map_met_to_satisfied_and_not_met_to_not_satisfied() -> None:
    findings = findings_by_subcategory(export())

    unmet, met = findings["MEASURE 2.11"], findings["GOVERN 1.2"]
    assert unmet["target"]["type"] == "objective-id"
    assert unmet["target"]["target-id"] == "measure-2.11"
    assert unmet["target"]["status"] == {"state": "not-satisfied", "reason": "not_met"}
    assert met["target"]["status"] == {"state": "satisfied", "reason": "met"}
    assert prop(met, "overridden") == "true"
    assert prop(unmet, "overridden") == "false"
    assert prop(unmet["target"], "subcategory") == "MEASURE 2.11"
    assert "demographic_parity_difference = 0.142 against threshold 0.1" in unmet["description"]


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("met", "satisfied"),
        ("not_applicable", "satisfied"),
        ("partially_met", "not-satisfied"),
        ("inconclusive", "not-satisfied"),
        ("not_met", "not-satisfied"),
    ],
)
def test_every_assessed_status_maps_to_an_objective_state(status: str, state: str) -> None:
    inputs = sample()
    inputs["posture"]["subcategories"][0]["status"] = status

    finding = findings_by_subcategory(export(inputs))["MEASURE 2.11"]

    assert finding["target"]["status"]["state"] == state
    assert prop(finding, "status") == status


def test_findings_relate_only_to_observations_in_the_export() -> None:
    doc = export()
    result = the_result(doc)
    observation = {prop(o, "evidence-uid"): o["uuid"] for o in result["observations"]}

    related = findings_by_subcategory(doc)["MEASURE 2.11"]["related-observations"]

    assert related == [{"observation-uuid": observation[FAIRNESS_UID]}]


def test_risks_carry_oscal_status_and_keep_riskregs_own() -> None:
    risks = {prop(r, "reference"): r for r in the_result(export())["risks"]}

    assert risks["RSK-001"]["status"] == "remediating"
    assert prop(risks["RSK-001"], "status") == "treating"
    assert risks["RSK-002"]["status"] == "deviation-approved"
    assert risks["RSK-002"]["statement"] == "The model was trained on data from before 2024."


def test_an_unknown_risk_status_is_refused() -> None:
    inputs = sample()
    inputs["risks"][0]["status"] = "forgotten"

    with pytest.raises(ValueError, match="unknown status 'forgotten'"):
        export(inputs)


def test_back_matter_hashes_equal_the_evidence_and_attachment_hashes() -> None:
    resources = export()["assessment-results"]["back-matter"]["resources"]

    hashes = {
        link["href"]: link["hashes"]
        for resource in resources
        for link in resource["rlinks"]
        if "hashes" in link
    }
    assert hashes == {
        f"urn:riskreg:evidence:{FAIRNESS_UID}": [{"algorithm": "SHA-256", "value": "a" * 64}],
        f"urn:riskreg:evidence:{FAIRNESS_UID}:attachment:group%20rates.csv": [
            {"algorithm": "SHA-256", "value": "b" * 64}
        ],
        f"urn:riskreg:evidence:{POLICY_DOC_UID}": [{"algorithm": "SHA-256", "value": "c" * 64}],
    }


def test_every_local_reference_points_at_a_back_matter_resource() -> None:
    doc = export()["assessment-results"]
    resources = {r["uuid"] for r in doc["back-matter"]["resources"]}

    local = re.findall(r'"href": "#([0-9a-f-]+)"', json.dumps(doc))

    assert doc["import-ap"]["href"][1:] in resources
    assert set(local) == resources


def test_riskreg_props_live_in_riskregs_namespace() -> None:
    text = json.dumps(export())
    namespaces = set(re.findall(r'"ns": "([^"]+)"', text))

    assert namespaces == {PROP_NS}


def test_same_inputs_give_an_identical_document() -> None:
    first = json.dumps(export(), sort_keys=True)
    second = json.dumps(export(copy.deepcopy(sample())), sort_keys=True)

    assert first == second


def test_the_same_moment_in_another_timezone_gives_the_same_document() -> None:
    inputs = sample()
    inputs["generated_at"] = GENERATED_AT.astimezone(timezone(timedelta(hours=2)))

    assert json.dumps(export(inputs), sort_keys=True) == json.dumps(export(), sort_keys=True)


def test_a_later_generation_is_a_new_document_about_the_same_subjects() -> None:
    inputs = sample()
    inputs["generated_at"] = GENERATED_AT + timedelta(days=1)
    before, after = export(), export(inputs)

    assert before["assessment-results"]["uuid"] != after["assessment-results"]["uuid"]
    assert the_result(before)["uuid"] != the_result(after)["uuid"]
    assert the_result(before)["findings"] == the_result(after)["findings"]


def test_a_naive_generation_time_is_refused() -> None:
    inputs = sample()
    inputs["generated_at"] = datetime(2026, 11, 20, 9, 30)  # noqa: DTZ001 - the case under test

    with pytest.raises(ValueError, match="naive"):
        export(inputs)


def test_a_repeated_evidence_uid_is_refused() -> None:
    inputs = sample()
    inputs["evidence"].append(copy.deepcopy(inputs["evidence"][0]))

    with pytest.raises(ValueError, match="appears twice"):
        export(inputs)


def test_a_system_with_no_evidence_or_risks_still_validates() -> None:
    inputs = sample()
    inputs["evidence"], inputs["risks"] = [], []
    for subcategory in inputs["posture"]["subcategories"]:
        subcategory["status"], subcategory["rationale"] = "not_assessed", []

    doc = export(inputs)
    model = AssessmentResults.model_validate(doc["assessment-results"])

    assert DuplicatesValidator().model_is_valid(model, quiet=True)
    assert not {"observations", "findings", "risks"} & set(the_result(doc))


def test_ragged_titles_are_made_single_line_oscal_titles() -> None:
    inputs = sample()
    inputs["evidence"][0]["title"] = "  Fairness\non the\tOctober hold-out "
    inputs["risks"][0]["title"] = " "
    inputs["posture"]["subcategories"][0]["rationale"][0]["note"] = "line one\nline two"

    doc = export(inputs)
    AssessmentResults.model_validate(doc["assessment-results"])

    result = the_result(doc)
    assert {o["title"] for o in result["observations"]} >= {"Fairness on the October hold-out"}
    assert result["risks"][0]["title"] == "RSK-001"


def test_the_document_survives_json() -> None:
    doc = export()

    assert json.loads(json.dumps(doc)) == doc
