"""Reports API: request, follow, approve, download, verify; the organisation's certificate."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from reports import selectors
from reports.errors import ReportNotSignedError, ReportTooLargeError
from reports.models import Report, ReportKind, ReportStatus
from reports.services.keys import organisation_certificates
from reports.services.requests import report_approve, report_request
from reports.services.verification import MAX_VERIFY_BYTES, report_verify
from reports.storage import pdf_read
from riskreg.inventory.selectors import system_get
from riskreg.lib.api import paginated, paginated_response
from riskreg.lib.errors import NotFoundError
from riskreg.organisations.apiview import OrgApiView


class ReportOutputSerializer(serializers.Serializer[Report]):
    id = serializers.UUIDField(source="uid")
    url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    system = serializers.CharField(source="system.slug", allow_null=True, default=None)
    period_from = serializers.DateField(allow_null=True)
    period_to = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    snapshot_sha256 = serializers.CharField()
    template_version = serializers.CharField()
    generator_version = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by_label")
    created_at = serializers.DateTimeField()
    draft_sha256 = serializers.CharField()
    approved_by = serializers.CharField(source="approved_by_label")
    approved_at = serializers.DateTimeField(allow_null=True)
    pdf_sha256 = serializers.CharField(help_text="SHA-256 of the signed PDF; empty until signed.")
    manifest_sha256 = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    signing_certificate = serializers.CharField(source="signing_fingerprint")
    error_code = serializers.CharField()
    message = serializers.CharField()

    def get_url(self, report: Report) -> str:
        return reverse("api:report-detail", kwargs={"uid": report.uid})


class ReportRequestInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    system = serializers.SlugField(required=False, help_text="Required except for register.")
    period_from = serializers.DateField(required=False)
    period_to = serializers.DateField(required=False)


class ReportsApi(OrgApiView):
    actions = {"GET": "report.read", "POST": "report.request"}
    body_names_objects = True  # a system of another organisation: 404

    @extend_schema(operation_id="reports_list", responses=paginated(ReportOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.report_list(actor=self.actor)
        return paginated_response(request, self, rows, ReportOutputSerializer)

    @extend_schema(
        operation_id="reports_create",
        request=ReportRequestInputSerializer,
        responses={202: ReportOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ReportRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = _system(self.actor, v.get("system"))
        report = report_request(
            actor=self.actor,
            kind=v["kind"],
            system=system,
            period_from=v.get("period_from"),
            period_to=v.get("period_to"),
        )
        out = ReportOutputSerializer(selectors.report_get(actor=self.actor, uid=str(report.uid)))
        return Response(
            out.data, status=status.HTTP_202_ACCEPTED, headers={"Location": out.data["url"]}
        )


def _system(actor: Any, slug: str | None) -> Any:
    """The named system; another organisation's answers 404, exactly like a missing one."""
    if not slug:
        return None
    try:
        return system_get(actor=actor, slug=slug)
    except NotFoundError as exc:
        raise NotFoundError(
            f"system: no AI system {slug!r} in your organisation", extra={"field": "system"}
        ) from exc


class ReportDetailApi(OrgApiView):
    actions = {"GET": "report.read"}

    @extend_schema(operation_id="reports_retrieve", responses=ReportOutputSerializer)
    def get(self, request: Request, uid: str) -> Response:
        report = selectors.report_get(actor=self.actor, uid=uid)
        return Response(ReportOutputSerializer(report).data)


class ApproveInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ReportApproveApi(OrgApiView):
    actions = {"POST": "report.approve"}

    @extend_schema(
        operation_id="reports_approve",
        request=ApproveInputSerializer,
        responses={202: ReportOutputSerializer},
    )
    def post(self, request: Request, uid: str) -> Response:
        report = selectors.report_get(actor=self.actor, uid=uid)
        data = ApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report_approve(actor=self.actor, report=report, note=data.validated_data.get("note", ""))
        fresh = selectors.report_get(actor=self.actor, uid=uid)
        return Response(ReportOutputSerializer(fresh).data, status=status.HTTP_202_ACCEPTED)


class ReportDownloadApi(OrgApiView):
    actions = {"GET": "report.read"}

    @extend_schema(
        operation_id="reports_download",
        parameters=[OpenApiParameter("version", str, enum=["signed", "draft"], required=False)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, uid: str) -> HttpResponse:
        report = selectors.report_get(actor=self.actor, uid=uid)
        draft = request.query_params.get("version") == "draft"
        sha256 = report.draft_sha256 if draft else report.pdf_sha256
        if not sha256:
            raise ReportNotSignedError(
                f"report {report.uid} has no {'draft' if draft else 'signed PDF'} yet",
                extra={"status": report.status},
            )
        name = f"riskreg-report-{report.uid}{'-draft' if draft else ''}.pdf"
        response = HttpResponse(pdf_read(report.organization_id, sha256), "application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class VerifyInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="The PDF to check.")


class CheckSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class VerifyOutputSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField()
    reason = serializers.CharField()
    report = serializers.CharField(allow_null=True, help_text="The report's id, when issued here.")
    checks = CheckSerializer(many=True)


class ReportVerifyApi(OrgApiView):
    actions = {"POST": "report.verify"}
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="reports_verify",
        request={"multipart/form-data": VerifyInputSerializer},
        responses=VerifyOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        data = VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise ReportTooLargeError(f"the PDF is larger than {MAX_VERIFY_BYTES} bytes")
        result = report_verify(organization_id=self.actor.organization_id, pdf=upload.read())
        return Response(VerifyOutputSerializer(result).data)


class CertificateOutputSerializer(serializers.Serializer[Any]):
    fingerprint = serializers.CharField(help_text="SHA-256 of the signing certificate.")
    ca_fingerprint = serializers.CharField(help_text="SHA-256 of the CA certificate.")
    certificate_pem = serializers.CharField()
    ca_certificate_pem = serializers.CharField()
    origin = serializers.CharField(source="source", help_text="generated or imported")
    created_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(allow_null=True)


class ReportCertificateApi(OrgApiView):
    actions = {"GET": "report.read"}

    @extend_schema(
        operation_id="reports_certificates",
        responses=CertificateOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = organisation_certificates(organization_id=self.actor.organization_id)
        return Response(CertificateOutputSerializer(rows, many=True).data)
