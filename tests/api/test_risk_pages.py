"""The register, the risk page, the dashboard and the matrix settings, through Django's
test client (no browser).

The pages call the same services as the API, so these tests check what the pages add:
each form shown only to the roles that may use it, and every POST guarded as the API is,
when posted directly: the wrong role gets 403, a foreign or missing risk 404, a missing
CSRF token 403, a bad form 400 with its errors inline, and a service's refusal names its
rule. None of those writes anything.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from riskreg.audit.models import AuditEvent
from riskreg.inventory import services as inventory
from riskreg.organisations.roles import Role, allows
from riskreg.risks.models import Risk, RiskAcceptance, RiskScore, TreatmentAction
from riskreg.risks.services import register as risks
from riskreg.risks.services import scoring, treatment
from tests.api.helpers import assert_nothing_written, db_snapshot
from tests.api.test_evidence_pages import signed_in
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

READERS = [Role.ADMIN, Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR]
FOREIGN = "RSK-005"  # globex has five risks, acme four
MISSING = "RSK-099"
X = "\N{MULTIPLICATION SIGN}"  # as the pages write scores


@dataclass(frozen=True)
class Register:
    proposed: Risk  # RSK-001, the engineer's, unscored
    officers: Risk  # RSK-002, open, the officer's own, residual low, overdue action A1
    acceptable: Risk  # RSK-003, open, the engineer's, residual medium: the officer may accept
    above: Risk  # RSK-004, open, the engineer's, residual high: above tolerance (medium)


def _risk(tenant: Tenant, title: str, owner: str, system: str) -> Risk:
    return risks.risk_create(
        actor=tenant.actor,
        title=title,
        statement="A statement.",
        category="fairness",
        owner=owner,
        systems=[system],
    )


def _open_scored(tenant: Tenant, title: str, owner: str, residual: tuple[int, int]) -> Risk:
    actor = tenant.actor
    risk = _risk(tenant, title, owner, "credit-scoring")
    risks.risk_transition(actor=actor, risk=risk, status="open")
    scoring.risk_score(actor=actor, risk=risk, kind="inherent", likelihood=4, impact=4)
    likelihood, impact = residual
    scoring.risk_score(
        actor=actor, risk=risk, kind="residual", likelihood=likelihood, impact=impact
    )
    return risk


@pytest.fixture
def register(acme: Tenant, globex: Tenant) -> Register:
    inventory.system_create(
        actor=acme.actor, slug="credit-scoring", name="Credit scoring", owner="engineer"
    )
    inventory.system_create(
        actor=globex.actor, slug="turnstile", name="Turnstile", owner="globex-engineer"
    )
    proposed = _risk(acme, "Proxy discrimination", "engineer", "credit-scoring")
    officers = _open_scored(acme, "Stale training data", "officer", (2, 2))
    treatment.treatment_action_create(
        actor=acme.actor,
        risk=officers,
        title="Retrain on fresh data",
        due_date=timezone.localdate() - timedelta(days=3),
    )
    acceptable = _open_scored(acme, "Thin files misranked", "engineer", (2, 3))
    above = _open_scored(acme, "Income shock", "engineer", (4, 4))
    for n in range(1, 6):
        _risk(globex, f"Spoofed faces ({n})", "globex-engineer", "turnstile")
    return Register(proposed=proposed, officers=officers, acceptable=acceptable, above=above)


def _body(response: Any) -> str:
    return str(response.content.decode())


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_dashboard_register_risk_page_and_matrix(
    acme: Tenant, register: Register, role: Role
) -> None:
    client = signed_in(acme, role)
    for path in (
        "/",
        "/risks/",
        "/risks/?status=open&level=high&category=fairness&owner=engineer&overdue=any",
        "/risks/?sort=-level&page=2",
        "/risks/?cell=residual-2-2",
        "/risks/RSK-001/",
        "/risks/RSK-002/",
        "/settings/risk-matrix/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


def test_foreign_and_missing_risks_and_systems_answer_404(acme: Tenant, register: Register) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    for path in (
        f"/risks/{FOREIGN}/",
        f"/risks/{MISSING}/",
        "/risks/not-a-reference/",
        "/risks/?system=turnstile",
        "/risks/?system=not%20a%20slug",
    ):
        assert client.get(path).status_code == 404, path
    body = _body(client.get("/"))
    assert "Spoofed faces" not in body
    assert "Turnstile" not in body


def test_auditor_filters_and_sorts_the_register_and_reads_scores_and_flags(
    acme: Tenant, register: Register
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    body = _body(client.get("/risks/?status=open&sort=-reference"))
    assert body.index("RSK-004") < body.index("RSK-003") < body.index("RSK-002")
    assert "RSK-001" not in body  # proposed
    assert f"4{X}4 = 16" in body  # inherent score of each open risk
    assert f"2{X}3 = 6" in body  # residual of RSK-003
    assert 'aria-sort="descending"' in body
    overdue = _body(client.get("/risks/?overdue=treatment"))
    assert "/risks/RSK-002/" in overdue
    assert "/risks/RSK-003/" not in overdue
    assert "overdue</span>" in overdue
    cell = _body(client.get("/risks/?cell=residual-4-4"))
    assert "/risks/RSK-004/" in cell
    assert "/risks/RSK-003/" not in cell
    assert "likelihood 4 (Likely) and impact 4 (Major)" in cell
    odd = client.get("/risks/?status=nonsense&level=%3Cb%3E&sort=drop&cell=x-9-9")
    assert odd.status_code == 200  # an unknown filter value filters nothing
    assert "/risks/RSK-001/" in _body(odd)


def test_auditor_sees_no_form_on_the_risk_page_or_the_matrix(
    acme: Tenant, register: Register
) -> None:
    client = signed_in(acme, Role.AUDITOR)
    for reference in ("RSK-001", "RSK-002", "RSK-003"):
        body = _body(client.get(f"/risks/{reference}/"))
        main = body[body.index("<main") :]
        assert 'method="post"' not in main, reference
    matrix = _body(client.get("/settings/risk-matrix/"))
    assert 'method="post"' not in matrix[matrix.index("<main") :]
    assert "Risk matrix" in matrix


def test_engineer_may_comment_but_sees_no_officer_form(acme: Tenant, register: Register) -> None:
    body = _body(signed_in(acme, Role.ENGINEER).get("/risks/RSK-003/"))
    assert "/risks/RSK-003/comments/" in body
    for hidden in ("accept/", "scores/", "treatment/", "reviews/", "transition/", "actions/"):
        assert f"/risks/RSK-003/{hidden}" not in body, hidden


def test_officer_sees_confirm_and_dismiss_on_a_proposed_risk(
    acme: Tenant, register: Register
) -> None:
    body = _body(signed_in(acme, Role.COMPLIANCE_OFFICER).get("/risks/RSK-001/"))
    assert "Confirm risk" in body
    assert "/risks/RSK-001/dismiss/" in body
    assert "/risks/RSK-001/accept/" not in body
    assert "/risks/RSK-001/reviews/" not in body  # proposed risks are not reviewed


def test_officer_is_told_why_the_accept_form_is_missing(acme: Tenant, register: Register) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    own = _body(client.get("/risks/RSK-002/"))
    assert "/risks/RSK-002/accept/" not in own
    assert "segregation of duties" in own
    above = _body(client.get("/risks/RSK-004/"))
    assert "/risks/RSK-004/accept/" not in above
    assert "above the organisation&#x27;s tolerance" in above
    assert "/risks/RSK-003/accept/" in _body(client.get("/risks/RSK-003/"))
    # The admin may accept above tolerance.
    admin = _body(signed_in(acme, Role.ADMIN).get("/risks/RSK-004/"))
    assert "/risks/RSK-004/accept/" in admin


def test_dashboard_counts_link_to_the_register_and_the_heat_maps_count_live_risks(
    acme: Tenant, register: Register
) -> None:
    body = _body(signed_in(acme, Role.ENGINEER).get("/"))
    assert "<strong>1</strong> overdue treatment action</a>" in body
    assert "/risks/?level=high&amp;status=open" in body
    assert 'id="count-high-open">3<' in body  # RSK-002/3/4: inherent 4x4 is high
    assert 'id="inherent-4-4"' in body
    assert '<a href="/risks/?cell=inherent-4-4"><span class="heat-count">3</span>' in body
    assert '<a href="/risks/?cell=residual-2-2"><span class="heat-count">1</span>' in body
    assert "Retrain on fresh data" in body  # the overdue action, listed
    assert "Credit scoring" in body  # the systems table stays


# --- every action, posted directly -----------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One form of the risk page: where it posts, a valid body, a malformed one."""

    name: str
    reference: str
    path: str  # after /risks/<reference>/
    action: str
    data: dict[str, str]
    bad: dict[str, str]

    def url(self, reference: str | None = None) -> str:
        return f"/risks/{reference or self.reference}/{self.path}"


def _ahead(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


POSTS = [
    Post(
        "confirm", "RSK-001", "transition/", "risk.transition", {"status": "open"}, {"status": "x"}
    ),
    Post(
        "dismiss", "RSK-001", "dismiss/", "risk.dismiss", {"reason": "Duplicate."}, {"reason": " "}
    ),
    Post(
        "score",
        "RSK-001",
        "scores/",
        "risk.score",
        {"kind": "inherent", "likelihood": "3", "impact": "4", "rationale": "Seen twice."},
        {"kind": "inherent", "likelihood": "6", "impact": "4"},
    ),
    Post(
        "treatment",
        "RSK-002",
        "treatment/",
        "risk.treat",
        {"decision": "mitigate", "plan": "Retrain monthly."},
        {"decision": "ignore", "plan": ""},
    ),
    Post(
        "add action",
        "RSK-002",
        "actions/",
        "risk.treat",
        {"title": "Audit the features", "due_date": "2031-01-31", "owner": "engineer"},
        {"title": "", "due_date": "31/01/2031", "owner": "globex-engineer"},
    ),
    Post(
        "action status", "RSK-002", "actions/A1/", "risk.treat", {"status": "done"}, {"status": "x"}
    ),
    Post(
        "accept",
        "RSK-003",
        "accept/",
        "risk.accept",
        {"justification": "Rare.", "conditions": "Monthly check.", "valid_until": "+90"},
        {"justification": "", "conditions": "Monthly check.", "valid_until": "soon"},
    ),
    Post(
        "review",
        "RSK-002",
        "reviews/",
        "risk.review",
        {"note": "Still apt."},
        {"note": "", "reviewed_on": "x"},
    ),
    Post("comment", "RSK-002", "comments/", "risk.comment", {"text": "Agreed."}, {"text": ""}),
]
IDS = [post.name for post in POSTS]


def _body_of(post: Post, data: dict[str, str] | None = None) -> dict[str, str]:
    """The form body, with "+N" dates made N days from today."""
    found = dict(post.data if data is None else data)
    return {k: _ahead(int(v[1:])) if v.startswith("+") else v for k, v in found.items()}


def _csrf_client(tenant: Tenant, role: Role) -> Client:
    """As signed_in, but the client checks CSRF tokens as a browser's requests are checked."""
    plain = signed_in(tenant, role)
    client = Client(enforce_csrf_checks=True)
    client.cookies = plain.cookies
    return client


@pytest.mark.parametrize("post", POSTS, ids=IDS)
def test_each_role_the_matrix_refuses_gets_403_and_nothing_is_written(
    acme: Tenant, register: Register, post: Post
) -> None:
    refused = [role for role in READERS if not allows(role, post.action)]
    assert refused, post  # the auditor, at least
    before = db_snapshot()
    for role in refused:
        for reference in (post.reference, FOREIGN, MISSING):
            response = signed_in(acme, role).post(post.url(reference), _body_of(post))
            assert response.status_code == 403, (role, reference, response.status_code)
            assert "Not allowed" in _body(response)
    assert_nothing_written(before)


@pytest.mark.parametrize("post", POSTS, ids=IDS)
def test_a_foreign_or_missing_risk_gets_404_and_a_post_without_csrf_token_403(
    acme: Tenant, register: Register, post: Post
) -> None:
    before = db_snapshot()
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    for reference in (FOREIGN, MISSING):
        response = client.post(post.url(reference), _body_of(post))
        assert response.status_code == 404, reference
    assert client.post("/risks/RSK-002/actions/A9/", {"status": "done"}).status_code == 404
    response = _csrf_client(acme, Role.ADMIN).post(post.url(), _body_of(post))
    assert response.status_code == 403
    assert "security token was missing" in _body(response)
    assert_nothing_written(before)


@pytest.mark.parametrize("post", POSTS, ids=IDS)
def test_a_bad_form_comes_back_400_with_its_errors_inline(
    acme: Tenant, register: Register, post: Post
) -> None:
    before = db_snapshot()
    response = signed_in(acme, Role.ADMIN).post(post.url(), _body_of(post, post.bad))
    assert response.status_code == 400
    body = _body(response)
    assert 'class="error" role="alert"' in body
    assert f"<h1>{post.reference}:" in body  # the risk's page, shown again
    assert_nothing_written(before)


@pytest.mark.parametrize("post", POSTS, ids=IDS)
def test_admin_posts_each_form_and_is_sent_back_to_the_risk_with_a_message(
    acme: Tenant, register: Register, post: Post
) -> None:
    events = AuditEvent.objects.count()
    client = signed_in(acme, Role.ADMIN)
    response = client.post(post.url(), _body_of(post))
    assert response.status_code == 302, _body(response)[:2000]
    assert response["Location"] == f"/risks/{post.reference}/"
    assert AuditEvent.objects.count() == events + 1
    page = client.get(response["Location"])
    assert 'class="message message--success"' in _body(page)


# --- refusals of the services ----------------------------------------------------------

ACCEPT = next(post for post in POSTS if post.name == "accept")


def test_owner_accepting_their_own_risk_is_refused_naming_segregation_of_duties(
    acme: Tenant, register: Register
) -> None:
    before = db_snapshot()
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = client.post(ACCEPT.url("RSK-002"), _body_of(ACCEPT))
    assert response.status_code == 403
    body = _body(response)
    assert 'id="refusal"' in body
    assert "segregation of duties requires someone else to accept it" in body
    assert_nothing_written(before)


def test_officer_accepting_above_tolerance_is_refused_and_the_admin_may(
    acme: Tenant, register: Register
) -> None:
    before = db_snapshot()
    officer = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = officer.post(ACCEPT.url("RSK-004"), _body_of(ACCEPT))
    assert response.status_code == 403
    assert "above the organisation&#x27;s tolerance" in _body(response)
    assert "only an admin may accept it" in _body(response)
    assert_nothing_written(before)
    admin = signed_in(acme, Role.ADMIN).post(ACCEPT.url("RSK-004"), _body_of(ACCEPT))
    assert admin.status_code == 302
    assert RiskAcceptance.objects.filter(risk=register.above, ended_at__isnull=True).exists()


def test_officer_accepts_a_risk_within_tolerance(acme: Tenant, register: Register) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = client.post(ACCEPT.url(), _body_of(ACCEPT), follow=True)
    body = _body(response)
    assert "RSK-003 is accepted until" in body
    assert 'id="acceptance-in-force"' in body
    assert "Renew the acceptance" in body
    register.acceptable.refresh_from_db()
    assert register.acceptable.status == "accepted"


def test_an_acceptance_too_far_ahead_is_refused_on_its_field(
    acme: Tenant, register: Register
) -> None:
    before = db_snapshot()
    data = _body_of(ACCEPT) | {"valid_until": _ahead(4000)}
    response = signed_in(acme, Role.COMPLIANCE_OFFICER).post(ACCEPT.url(), data)
    assert response.status_code == 400
    assert "Must lie at most 365 days ahead." in _body(response)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        ("proposed", 409, "cannot move from &#x27;open&#x27; to &#x27;proposed&#x27;"),
        ("accepted", 409, "is set by the acceptance workflow"),
        ("dismissed", 409, "is set by the acceptance workflow"),
    ],
)
def test_a_move_the_life_cycle_forbids_is_refused_naming_it(
    acme: Tenant, register: Register, status: str, code: int, says: str
) -> None:
    before = db_snapshot()
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    response = client.post("/risks/RSK-002/transition/", {"status": status})
    assert response.status_code == code
    assert says in _body(response)
    assert_nothing_written(before)


def test_reviewing_or_dismissing_an_open_risk_is_refused(acme: Tenant, register: Register) -> None:
    before = db_snapshot()
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    review = client.post("/risks/RSK-001/reviews/", {"note": "Looked."})
    assert review.status_code == 400
    assert "only open, treating or accepted risks are reviewed" in _body(review)
    dismiss = client.post("/risks/RSK-002/dismiss/", {"reason": "Not ours."})
    assert dismiss.status_code == 409
    assert "only proposed risks are dismissed" in _body(dismiss)
    assert_nothing_written(before)


def test_officer_confirms_scores_and_treats_a_risk_and_its_page_shows_it(
    acme: Tenant, register: Register
) -> None:
    client = signed_in(acme, Role.COMPLIANCE_OFFICER)
    steps: list[tuple[str, dict[str, str]]] = [
        ("transition/", {"status": "open"}),
        ("scores/", {"kind": "inherent", "likelihood": "5", "impact": "5"}),
        ("scores/", {"kind": "residual", "likelihood": "1", "impact": "2"}),
        ("treatment/", {"decision": "mitigate", "plan": "Drop the postcode feature."}),
        ("actions/", {"title": "Drop postcode", "due_date": "2031-01-31", "owner": "engineer"}),
        ("actions/A1/", {"status": "in_progress"}),
        ("comments/", {"text": "Confirmed with the model owner."}),
    ]
    for path, data in steps:
        assert client.post(f"/risks/RSK-001/{path}", data).status_code == 302, path
    body = _body(client.get("/risks/RSK-001/"))
    assert f"5{X}5 = 25" in body
    assert "1 · Rare" in body  # residual likelihood, labelled by its matrix version
    assert "Drop the postcode feature." in body
    assert "Confirmed with the model owner." in body
    assert "risk.transition" in body  # the history, from the audit trail
    assert RiskScore.objects.filter(risk=register.proposed).count() == 2
    action = TreatmentAction.objects.get(risk=register.proposed)
    assert (action.status, action.owner.user.username if action.owner else None) == (
        "in_progress",
        "engineer",
    )
    register.proposed.refresh_from_db()
    assert (register.proposed.status, register.proposed.level) == ("open", "critical")


# --- the matrix settings ---------------------------------------------------------------


def _matrix_body(**changes: str) -> dict[str, str]:
    labels = {
        **{
            f"likelihood_{n}": v
            for n, v in enumerate(["Rare", "Unlikely", "Possible", "Likely", "Almost certain"], 1)
        },
        **{
            f"impact_{n}": v
            for n, v in enumerate(["Negligible", "Minor", "Moderate", "Major", "Severe"], 1)
        },
    }
    values = {"band_low": "4", "band_medium": "9", "band_high": "16", "tolerance": "high"}
    days = {
        "review_low": "365",
        "review_medium": "180",
        "review_high": "90",
        "review_critical": "30",
    }
    return labels | values | days | changes


def test_admin_changes_the_tolerance_and_the_new_version_is_listed(
    acme: Tenant, register: Register
) -> None:
    client = signed_in(acme, Role.ADMIN)
    response = client.post("/settings/risk-matrix/edit/", _matrix_body(), follow=True)
    body = _body(response)
    assert "The risk matrix is now version 2." in body
    assert '<dd id="matrix-tolerance">high</dd>' in body
    again = client.post("/settings/risk-matrix/edit/", _matrix_body(), follow=True)
    assert "Nothing changed; the matrix stays at version 2." in _body(again)
    # The officer may now accept RSK-004 (residual high): the form appears.
    officer = _body(signed_in(acme, Role.COMPLIANCE_OFFICER).get("/risks/RSK-004/"))
    assert "/risks/RSK-004/accept/" in officer


@pytest.mark.parametrize("role", [Role.COMPLIANCE_OFFICER, Role.ENGINEER, Role.AUDITOR])
def test_only_admins_see_and_post_the_matrix_form(
    acme: Tenant, register: Register, role: Role
) -> None:
    client = signed_in(acme, role)
    assert "settings/risk-matrix/edit/" not in _body(client.get("/settings/risk-matrix/"))
    before = db_snapshot()
    assert client.post("/settings/risk-matrix/edit/", _matrix_body()).status_code == 403
    assert_nothing_written(before)
    admin = _body(signed_in(acme, Role.ADMIN).get("/settings/risk-matrix/"))
    assert "settings/risk-matrix/edit/" in admin


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"band_low": "9", "band_medium": "4"}, "Must rise strictly"),
        ({"likelihood_2": "Rare"}, "Labels must differ from each other."),
        ({"band_high": "many"}, "Enter a whole number."),
        ({"tolerance": "none"}, "Select a valid choice."),
        ({"review_low": "9999"}, "1 to 730 days"),
    ],
)
def test_a_bad_matrix_comes_back_400_naming_the_setting(
    acme: Tenant, register: Register, changes: dict[str, str], says: str
) -> None:
    before = db_snapshot()
    response = signed_in(acme, Role.ADMIN).post(
        "/settings/risk-matrix/edit/", _matrix_body(**changes)
    )
    assert response.status_code == 400
    assert says in _body(response)
    assert_nothing_written(before)


def test_the_matrix_form_needs_its_csrf_token(acme: Tenant, register: Register) -> None:
    before = db_snapshot()
    response = _csrf_client(acme, Role.ADMIN).post("/settings/risk-matrix/edit/", _matrix_body())
    assert response.status_code == 403
    assert_nothing_written(before)
