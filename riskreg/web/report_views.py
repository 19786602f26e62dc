"""Reports: request one, follow its draft, approve it, download it, verify a signed PDF.

The pages use the services and selectors the API uses (reports.api): report_request,
report_approve and report_verify behind the same role check (`page(action)`), so an
engineer or auditor posting a request or an approval directly gets 403. A form that does
not validate, or a service's refusal, comes back on the page with the error beside its
field (400, or the refusal's own status: approving what is no longer a draft is 409).

Rendering and signing happen in a worker; while a report waits for one, its page reloads
itself every few seconds with a `<meta http-equiv="refresh">` (no script, as on the
assessment page), and anyone may switch that off with `?refresh=off`.

Downloads are files, never pages: attachment disposition, no sniffing, sandboxed.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from reports import selectors
from reports.models import Report, ReportKind, ReportStatus
from reports.services.keys import organisation_certificates
from reports.services.requests import report_approve, report_request
from reports.services.verification import report_verify
from reports.storage import pdf_read
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import ApplicationError, NotFoundError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import Role, allows
from riskreg.web.report_forms import KIND_LABELS, ApproveForm, ReportRequestForm, VerifyForm
from riskreg.web.risk_views import _place, _sentence
from riskreg.web.views import _page_of, _render, page

POST = ("POST",)
ROLE_LABELS = dict(Role.choices)
REFRESH_SECONDS = 2
# Each status drawn with an existing badge of app.css (shape and colour); the word is
# always printed beside it, so colour is never the only signal.
TONES = {
    ReportStatus.QUEUED: "queued",
    ReportStatus.DRAFT: "proposed",
    ReportStatus.APPROVED: "running",
    ReportStatus.SIGNED: "succeeded",
    ReportStatus.FAILED: "failed",
}
# A worker still has something to do: the page reloads until it is done.
WAITING = (ReportStatus.QUEUED, ReportStatus.APPROVED)
# Every download is a file, never a page the browser could run.
SANDBOX = "default-src 'none'; sandbox"


def _badge(report: Report) -> dict[str, str]:
    return {
        "status": TONES[ReportStatus(report.status)],
        "label": report.get_status_display(),
    }


def _row(report: Report) -> dict[str, Any]:
    """A report with its kind in words and its status badge, as the tables print it."""
    return {
        "report": report,
        "kind": KIND_LABELS[ReportKind(report.kind)],
        "badge": _badge(report),
    }


def _download(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    return response


# --- the list, the request form, the verify form, the certificates -----------------------


def _request_form(actor: Actor, *data: Any) -> ReportRequestForm:
    choices = [(s.slug, s.name) for s in inventory.system_list(actor=actor)]
    return ReportRequestForm(*data, system_choices=choices)


def _list_page(
    request: HttpRequest,
    actor: Actor,
    status: int = 200,
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    found = _page_of(request, selectors.report_list(actor=actor))
    may_request = allows(actor.role, "report.request")
    context = {
        "page": found,
        "rows": [_row(report) for report in found],
        "may_request": may_request,
        "request_form": _request_form(actor) if may_request else None,
        "verify_form": VerifyForm(),
        "verdict": None,
        "certificates": organisation_certificates(organization_id=actor.organization_id),
        **(bound or {}),
    }
    return _render(request, actor, "web/reports.html", context, status=status)


@page("report.read")
def report_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _list_page(request, actor)


@page("report.request", methods=POST)
def report_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Request a report: the snapshot is taken now; a worker renders the draft."""
    form = _request_form(actor, request.POST)
    if not form.is_valid():
        return _list_page(request, actor, 400, {"request_form": form})
    data = form.cleaned_data
    # The menu holds only the organisation's systems, so the slug is one of them.
    system = inventory.system_get(actor=actor, slug=data["system"]) if data["system"] else None
    try:
        made = report_request(
            actor=actor,
            kind=data["kind"],
            system=system,
            period_from=data["period_from"],
            period_to=data["period_to"],
        )
    except ApplicationError as exc:
        if not _place(form, exc):
            form.add_error(None, exc.message)
        return _list_page(request, actor, exc.http_status, {"request_form": form})
    messages.success(request, "The report is requested; its draft is being rendered.")
    return HttpResponseRedirect(reverse("report-detail", args=[made.uid]))


@page("report.verify", methods=POST)
def report_verify_upload(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check an uploaded PDF: signed by this organisation, issued here, evidence unchanged."""
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, actor, 400, {"verify_form": form})
    upload = form.cleaned_data["file"]
    verdict = report_verify(organization_id=actor.organization_id, pdf=upload.read())
    if verdict["report"]:
        verdict["url"] = reverse("report-detail", args=[verdict["report"]])
    return _list_page(request, actor, 200, {"verdict": verdict | {"name": upload.name}})


@page("report.read")
def report_ca_certificate(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The CA certificate (PEM) that anchors the reports signed now, for offline checks."""
    certificates = organisation_certificates(organization_id=actor.organization_id)
    if not certificates:
        raise NotFoundError("Your organisation has signed no report yet, so it has no CA.")
    in_use = certificates[0]  # the selector puts the certificate in use first
    return _download(
        in_use["ca_certificate_pem"].encode(), "application/x-pem-file", "riskreg-report-ca.pem"
    )


# --- one report --------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    actor: Actor,
    report: Report,
    form: ApproveForm | None = None,
    status: int = 200,
    refusal: str = "",
) -> HttpResponse:
    refresh_off = request.GET.get("refresh") == "off"
    waiting = report.status in WAITING
    context = {
        "row": _row(report),
        "report": report,
        "approver_role": ROLE_LABELS.get(report.approved_by_role, report.approved_by_role),
        "refresh": REFRESH_SECONDS if waiting and not refresh_off and status == 200 else None,
        "refresh_off": refresh_off and waiting,
        "may_approve": allows(actor.role, "report.approve") and report.status == ReportStatus.DRAFT,
        "approve_form": form or ApproveForm(),
        "refusal": refusal,
    }
    return _render(request, actor, "web/report_detail.html", context, status=status)


@page("report.read")
def report_detail(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    report = selectors.report_get(actor=actor, uid=str(uid))
    return _detail_page(request, actor, report)


@page("report.approve", methods=POST)
def report_approve_draft(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    """Approve the draft as it stands; a worker renders the final and signs it."""
    report = selectors.report_get(actor=actor, uid=str(uid))
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, actor, report, form, status=400)
    try:
        report_approve(actor=actor, report=report, note=form.cleaned_data["note"])
    except ApplicationError as exc:  # approved (or failed) meanwhile: no longer a draft
        fresh = selectors.report_get(actor=actor, uid=str(uid))
        return _detail_page(
            request, actor, fresh, status=exc.http_status, refusal=_sentence(exc.message)
        )
    messages.success(request, "The report is approved; its final version is being signed.")
    return HttpResponseRedirect(reverse("report-detail", args=[report.uid]))


def _pdf(actor: Actor, uid: Any, *, draft: bool) -> HttpResponse:
    report = selectors.report_get(actor=actor, uid=str(uid))
    sha256 = report.draft_sha256 if draft else report.pdf_sha256
    if not sha256:
        what = "draft" if draft else "signed PDF"
        raise NotFoundError(f"Report {report.uid} has no {what} yet.")
    name = f"riskreg-report-{report.uid}{'-draft' if draft else ''}.pdf"
    return _download(pdf_read(report.organization_id, sha256), "application/pdf", name)


@page("report.read")
def report_download(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    """The signed PDF, the same bytes the API serves."""
    return _pdf(actor, uid, draft=False)


@page("report.read")
def report_draft_download(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    """The watermarked draft, for review before approval."""
    return _pdf(actor, uid, draft=True)
