"""The demo's reports: one approved, signed system report per demo system.

Written through the same services as the API and the worker (rendered and signed here,
before any worker starts); idempotent: a system with a signed report gets no other.
"""

from reports.models import Report, ReportKind, ReportStatus
from reports.services.pipeline import report_render_draft, report_sign
from reports.services.requests import report_approve, report_request
from riskreg.inventory import selectors as inventory_selectors
from riskreg.organisations import selectors as org_selectors
from riskreg.organisations.actor import Actor


def _officer(actor: Actor) -> Actor:
    membership = org_selectors.membership_get(
        organization_id=actor.organization_id, username="officer"
    )
    assert membership is not None  # the demo added its members first
    return org_selectors.actor_for_membership(membership)


def seed_reports(actor: Actor) -> None:
    """Request, draft, approve and sign a compliance report for every system lacking one."""
    officer = _officer(actor)
    for system in inventory_selectors.system_list(actor=actor).order_by("slug"):
        done = Report.objects.filter(
            organization_id=actor.organization_id, system=system, status=ReportStatus.SIGNED
        )
        if done.exists():
            continue
        report = report_request(actor=officer, kind=ReportKind.SYSTEM, system=system)
        report_render_draft(report_id=report.pk)
        report.refresh_from_db()
        report_approve(actor=officer, report=report, note="Reviewed for the quarterly board pack.")
        report_sign(report_id=report.pk)
