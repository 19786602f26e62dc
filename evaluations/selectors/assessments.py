"""Reads of assessment jobs, scoped to the actor's organisation (and a limited account's
systems)."""

from django.db.models import QuerySet

from evaluations.models import AssessmentJob
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.actor import Actor


def assessment_job_list(
    *, actor: Actor, system: str | None = None, status: str | None = None
) -> QuerySet[AssessmentJob]:
    """Jobs, newest first, with what the API shows loaded."""
    rows = AssessmentJob.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        rows = rows.filter(system_id__in=actor.system_ids)
    if system:
        rows = rows.filter(system__slug=system)
    if status:
        rows = rows.filter(status=status)
    return (
        rows.select_related("system", "model_version", "input")
        .prefetch_related("evidence", "verdict_updates")
        .order_by("-id")
    )


def assessment_job_get(*, actor: Actor, uid: str) -> AssessmentJob:
    found = assessment_job_list(actor=actor).filter(uid=uid).first()
    if found is None:
        raise NotFoundError(f"No assessment job {uid!r} in your organisation.")
    return found
