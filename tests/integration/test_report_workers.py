"""A report on real workers: the draft is rendered and, after approval, signed by the worker,
and the signed PDF verifies offline with the organisation's CA certificate."""

import uuid
from collections.abc import Callable

import pytest
from django.conf import settings
from riskreg_client.verify import verify_pdf

from reports.models import Report
from reports.services.keys import trust_roots_for
from reports.services.requests import report_approve, report_request
from reports.storage import pdf_read
from riskreg.inventory import services as inventory
from riskreg.organisations import services as orgs
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import Role
from riskreg.organisations.selectors import actor_for_membership
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration


def _status(report: Report) -> str:
    report.refresh_from_db()
    return report.status


def test_a_worker_renders_the_draft_and_after_approval_signs_the_report(
    redis_broker: str, start_worker: Callable[..., Worker]
) -> None:
    from controls.services import catalog_load
    from tests.integration.test_assessment_workers import job_env

    catalog_load()
    org = orgs.organization_create(name="Reports", slug=f"reports-{uuid.uuid4().hex[:8]}")
    actor = Actor.system(org.pk)
    officer = actor_for_membership(
        orgs.membership_add(
            actor=actor, username=f"officer-{uuid.uuid4().hex[:6]}", role=Role.COMPLIANCE_OFFICER
        )
    )
    system = inventory.system_create(actor=actor, slug="scoring", name="Scoring")
    # The worker stores PDFs and keys where this process reads them.
    worker = start_worker(
        redis_broker,
        **job_env(
            RISKREG_REPORTS_DIR=str(settings.RISKREG_REPORTS_DIR),
            RISKREG_KEYS_DIR=str(settings.RISKREG_KEYS_DIR),
        ),
    )

    report = report_request(actor=officer, kind="system", system=system)
    worker.wait_for("draft rendered", lambda: _status(report) == "draft")
    report_approve(actor=officer, report=report)
    worker.wait_for("report signed", lambda: _status(report) in ("signed", "failed"))

    assert report.status == "signed", report.message
    pdf = pdf_read(org.pk, report.pdf_sha256)
    verdict = verify_pdf(pdf, trust_roots=trust_roots_for(organization_id=org.pk))
    assert verdict.valid, verdict.reason
    assert verdict.manifest is not None
    assert verdict.manifest["report_id"] == str(report.uid)
