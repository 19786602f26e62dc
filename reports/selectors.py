"""Reads of reports and of the organisation's signing certificates."""

from django.db.models import QuerySet

from reports.models import Report, SigningCertificate
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.actor import Actor


def report_list(*, actor: Actor) -> QuerySet[Report]:
    """The organisation's reports, newest first (a limited service account: its systems')."""
    rows = Report.objects.filter(organization_id=actor.organization_id)
    if actor.system_ids is not None:
        rows = rows.filter(system_id__in=actor.system_ids)
    return rows.select_related("system").defer("snapshot").order_by("-created_at", "-pk")


def report_get(*, actor: Actor, uid: str) -> Report:
    found = report_list(actor=actor).filter(uid=uid).first()
    if found is None:
        raise NotFoundError(f"No report {uid!r} in your organisation.")
    return found


def signing_certificates(*, organization_id: int) -> QuerySet[SigningCertificate]:
    """Every certificate the organisation has signed with, the one in use first."""
    return SigningCertificate.objects.filter(organization_id=organization_id).order_by(
        "retired_at", "-created_at"
    )
