"""Comments on a risk: who said what, when. They are never edited or deleted."""

from django.db import transaction

from riskreg.audit.services import audit_append
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.actor import Actor
from riskreg.risks.models import Risk, RiskComment


@transaction.atomic
def risk_comment_add(*, actor: Actor, risk: Risk, text: str) -> RiskComment:
    """Add a comment to the risk's discussion."""
    if not text.strip():
        raise ValidationFailedError.for_field("text", "must not be blank")
    comment = RiskComment(
        risk=risk, author_id=actor.membership_id, author_label=actor.label, text=text.strip()
    )
    comment.full_clean()
    comment.save()
    audit_append(
        actor=actor,
        action="risk.comment",
        object_type="risk",
        object_id=risk.pk,
        changes={"comment": {"before": None, "after": comment.text}},
    )
    return comment
