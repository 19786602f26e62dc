"""The demo register's workflow, through the services as its people would work it.

demo._risks writes the first four risks; this adds the risks that bring every status into
the register and tells each risk's story: scores of each kind, the treatment decision,
plan and actions (one overdue, some done), one acceptance that runs out in ten days (the
officer accepting a risk the engineer owns), one review long overdue, and comments.

Idempotent: a story runs only for a risk that has no score yet, and a new risk is created
only when no risk has its title, so seeding twice writes nothing. Dates count from today.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor
from riskreg.risks.models import Risk
from riskreg.risks.selectors import register as risk_selectors
from riskreg.risks.services import acceptance, comments, scoring, treatment
from riskreg.risks.services import register as risks


@dataclass(frozen=True)
class Story:
    """What happens to a risk after it is recorded; days count from today (negative: ago)."""

    path: tuple[str, ...] = ()  # plain moves, in order, before anything else
    scores: tuple[tuple[str, int, int, str], ...] = ()  # (kind, likelihood, impact, rationale)
    decision: str = ""
    plan: str = ""
    actions: tuple[tuple[str, str, int, str], ...] = ()  # (title, owner, due in days, status)
    comments: tuple[tuple[str, str], ...] = ()  # (username, text)
    reviewed_days_ago: int | None = None  # a review held that many days ago
    accepted_for_days: int | None = None  # the officer accepts it for that many days
    dismissed: str = ""  # the reason; the officer dismisses it
    then: tuple[str, ...] = ()  # plain moves after the treatment (closing)


@dataclass(frozen=True)
class NewRisk:
    fields: dict[str, Any]
    identified_days_ago: int
    story: Story = field(default_factory=Story)


# The first four risks, written by demo._risks: proposed ones stay unscored.
STORIES: dict[str, Story] = {
    "Unequal approval rates across age groups": Story(
        scores=(
            ("inherent", 4, 4, "The 4.3.0 assessment approves 18-24 year olds less often."),
            ("current", 3, 4, "Declined applicants under 25 get a manual second look."),
            ("residual", 2, 3, "Once the reweighting and the CI fairness gate are in place."),
        ),
        decision="mitigate",
        plan="Reweigh the training sample by age band, add a fairness gate to CI, and keep "
        "the manual second look for declined applicants under 25 until the gate passes.",
        actions=(
            ("Reweigh the training sample by age band", "engineer", -20, "done"),
            ("Add an age-band fairness gate to CI", "engineer", -7, "in_progress"),
            ("Re-run the fairness assessment on 4.3.0", "officer", 30, "planned"),
        ),
        comments=(
            ("engineer", "Reweighting is merged; the 4.3.0 staging build uses it."),
            ("officer", "The gate must block a release when the approval gap exceeds 5 points."),
        ),
    ),
    "Invented policy details in drafted replies": Story(
        scores=(
            ("inherent", 4, 4, "Seen in 3 of 50 sampled drafts."),
            ("residual", 2, 4, "Drafts grounded in the policy knowledge base."),
        ),
        decision="mitigate",
        plan="Ground drafts in the policy knowledge base; agents confirm refund terms.",
        actions=(("Ground drafts in the policy knowledge base", "engineer", 21, "planned"),),
        comments=(("officer", "Agents keep reviewing every draft until grounding is live."),),
    ),
    "Personal data echoed from transcripts": Story(
        scores=(
            ("inherent", 3, 5, "Transcripts are pseudonymised, but not every field."),
            ("residual", 2, 3, "With a filter on retrieved passages."),
        ),
    ),
}

NEW_RISKS: list[NewRisk] = [
    NewRisk(
        fields={
            "title": "Income drift in new applications",
            "statement": "Declared incomes rose faster than the 2024 training data expects.",
            "category": "validity_reliability",
            "owner": "engineer",
            "systems": ["credit-scoring"],
            "datasets": ["credit-applications-2024"],
        },
        identified_days_ago=120,
        story=Story(
            path=("open",),
            scores=(
                ("inherent", 3, 3, "Scores shift by a few points for high earners."),
                ("residual", 2, 3, "The monthly drift monitor alerts before it matters."),
            ),
            decision="accept",
            plan="Monitor monthly; retrain at the next scheduled release.",
            actions=(("Add a monthly income drift monitor", "engineer", -40, "done"),),
            comments=(("officer", "Accepted until the retrain; the drift monitor warns us."),),
            accepted_for_days=10,
        ),
    ),
    NewRisk(
        fields={
            "title": "Shelf alerts missed in night-time images",
            "statement": "Few night-time images were in training; empty shelves go unnoticed.",
            "category": "validity_reliability",
            "owner": "engineer",
            "systems": ["shelf-vision"],
            "datasets": ["shelf-images"],
        },
        identified_days_ago=400,
        story=Story(
            path=("open",),
            scores=(
                ("inherent", 3, 4, "Night shifts restock by these alerts."),
                ("residual", 2, 4, "After retraining with night-time images."),
            ),
            decision="mitigate",
            plan="Collect night-time images from two more stores and retrain.",
            actions=(("Collect night-time images from two stores", "engineer", 45, "planned"),),
            # Reviewed long ago on a 90-day cadence: the review is overdue.
            reviewed_days_ago=200,
        ),
    ),
    NewRisk(
        fields={
            "title": "Prompt injection through customer messages",
            "statement": "A customer message may instruct the assistant to reveal its prompt.",
            "category": "security_resilience",
            "owner": "engineer",
            "systems": ["support-assistant"],
        },
        identified_days_ago=3,
    ),
    NewRisk(
        fields={
            "title": "Younger applicants ranked lower",
            "statement": "Applicants under 25 seem to get lower scores.",
            "category": "fairness",
            "owner": "engineer",
            "systems": ["credit-scoring"],
        },
        identified_days_ago=30,
        story=Story(
            dismissed="A duplicate of “Unequal approval rates across age groups”.",
        ),
    ),
    NewRisk(
        fields={
            "title": "Blurred images from uncalibrated cameras",
            "statement": "Cameras out of focus in older stores blur the product labels.",
            "category": "validity_reliability",
            "owner": "engineer",
            "systems": ["shelf-vision"],
        },
        identified_days_ago=300,
        story=Story(
            path=("open", "treating"),
            scores=(
                ("inherent", 3, 3, "Two stores in five affected."),
                ("residual", 1, 3, "Once every camera is calibrated."),
            ),
            decision="mitigate",
            plan="Calibrate every store's cameras; add a focus check to the nightly job.",
            actions=(("Calibrate the cameras of every store", "engineer", -60, "done"),),
            comments=(("officer", "Calibration verified in all stores; closing."),),
            then=("closed",),
        ),
    ),
]


def _person(actor: Actor, username: str) -> Actor:
    membership = org_selectors.membership_get(
        organization_id=actor.organization_id, username=username
    )
    assert membership is not None  # demo._members added the four personas
    return org_selectors.actor_for_membership(membership)


def _treat(officer: Actor, risk: Risk, story: Story) -> None:
    today = timezone.localdate()
    if story.decision or story.plan:
        treatment.risk_treatment_set(
            actor=officer, risk=risk, decision=story.decision, plan=story.plan
        )
    for title, owner, due_in, status in story.actions:
        treatment.treatment_action_create(
            actor=officer,
            risk=risk,
            title=title,
            owner=owner,
            due_date=today + timedelta(days=due_in),
            status=status,
        )


def _tell(actor: Actor, risk: Risk, story: Story) -> None:
    """Everything the story says happens to the risk, in the order people would do it."""
    officer = _person(actor, "officer")
    today = timezone.localdate()
    for status in story.path:
        risks.risk_transition(actor=officer, risk=risk, status=status)
    for kind, likelihood, impact, rationale in story.scores:
        scoring.risk_score(
            actor=officer,
            risk=risk,
            kind=kind,
            likelihood=likelihood,
            impact=impact,
            rationale=rationale,
        )
    _treat(officer, risk, story)
    for username, text in story.comments:
        comments.risk_comment_add(actor=_person(actor, username), risk=risk, text=text)
    if story.reviewed_days_ago is not None:
        held = today - timedelta(days=story.reviewed_days_ago)
        scoring.risk_review(
            actor=officer, risk=risk, note="Quarterly review: unchanged.", reviewed_on=held
        )
    if story.accepted_for_days is not None:
        acceptance.risk_accept(
            actor=officer,
            risk=risk,
            justification="The residual level is within tolerance and monitored monthly.",
            conditions="The drift monitor stays on; a breach reopens the risk.",
            valid_until=today + timedelta(days=story.accepted_for_days),
        )
    if story.dismissed:
        acceptance.risk_dismiss(actor=officer, risk=risk, reason=story.dismissed)
    for status in story.then:
        risks.risk_transition(actor=officer, risk=risk, status=status)


def seed_risk_workflow(actor: Actor) -> None:
    """Add the demo's remaining risks and tell every risk's story once."""
    existing = {r.title: r for r in risk_selectors.risk_list(actor=actor)}
    for title, story in STORIES.items():
        risk = existing.get(title)
        if risk is not None and risk.inherent_score_id is None:
            _tell(actor, risk, story)
    today = timezone.localdate()
    for new in NEW_RISKS:
        if new.fields["title"] in existing:
            continue
        risk = risks.risk_create(
            actor=actor,
            identified_on=today - timedelta(days=new.identified_days_ago),
            **new.fields,
        )
        _tell(actor, risk, new.story)
