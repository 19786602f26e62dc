"""docs/roles.md is the contract: its role table is MATRIX, its endpoint table is the API."""

from riskreg.organisations.roles import MATRIX, Role
from tests.api.helpers import (
    ROLES_DOC,
    api_operations,
    doc_endpoint_actions,
    doc_role_columns,
    doc_role_matrix,
)


def test_role_table_has_one_column_per_role_in_order() -> None:
    assert doc_role_columns() == [role.value for role in Role]


def test_role_table_lists_every_action_of_the_matrix_and_no_other() -> None:
    documented = doc_role_matrix()
    assert sorted(set(MATRIX) - set(documented)) == [], "actions missing from docs/roles.md"
    assert sorted(set(documented) - set(MATRIX)) == [], "docs/roles.md lists unknown actions"


def test_role_table_grants_exactly_what_the_matrix_grants() -> None:
    documented = doc_role_matrix()
    wrong = {
        action: {"doc": sorted(documented[action]), "code": sorted(r.value for r in roles)}
        for action, roles in MATRIX.items()
        if documented.get(action) != {r.value for r in roles}
    }
    assert wrong == {}


def test_endpoint_table_covers_exactly_the_operations_of_the_url_configuration() -> None:
    documented = set(doc_endpoint_actions())
    served = {op.key for op in api_operations()}
    assert sorted(served - documented) == [], "endpoints missing from docs/roles.md"
    assert sorted(documented - served) == [], "docs/roles.md lists endpoints that do not exist"


def test_endpoint_table_names_the_action_each_view_declares() -> None:
    documented = doc_endpoint_actions()
    wrong = {
        str(op): {"doc": documented.get(op.key), "view": op.action}
        for op in api_operations()
        if documented.get(op.key) != op.action
    }
    assert wrong == {}


def test_every_action_an_endpoint_performs_is_in_the_role_table() -> None:
    assert sorted(set(doc_endpoint_actions().values()) - set(doc_role_matrix())) == []


def test_doc_states_the_acceptance_rules_with_their_codes() -> None:
    text = ROLES_DOC.read_text(encoding="utf-8")
    heading = "\n## Accepting and dismissing risks\n"
    assert heading in text
    section = text.split(heading, 1)[1]
    for phrase in (
        "transition_reserved",
        "/risks/{reference}/transition/",
        "segregation_of_duties",
        "above_tolerance",
        "acceptance_needs_person",
        "residual_score_required",
        "RISKREG_ACCEPTANCE_MAX_DAYS",
        "renewed",
        "expired",
    ):
        assert phrase in section, phrase
