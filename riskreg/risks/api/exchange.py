"""Register and treatment-plan files: export as CSV or XLSX, import either back.

See docs/risk-exchange.md for the columns, the formula neutralisation and the import rules.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.organisations.apiview import OrgApiView
from riskreg.organisations.selectors import organization_by_id
from riskreg.risks.api.register import RiskFilterSerializer
from riskreg.risks.exchange import files
from riskreg.risks.exchange.columns import SHEETS, Cell
from riskreg.risks.selectors import exchange as selectors
from riskreg.risks.services import exchange as services

EXPORTS: dict[str, Callable[..., list[dict[str, Cell]]]] = {
    "register": selectors.register_export_rows,
    "treatment-plan": selectors.treatment_plan_export_rows,
}
IMPORTS: dict[str, Callable[..., services.Counts]] = {
    "register": services.register_import,
    "treatment-plan": services.treatment_plan_import,
}


class RiskExportFilterSerializer(RiskFilterSerializer):
    """The register's filters, plus which sheet and which file type.

    Not `format`: DRF reads ?format= to pick a renderer.
    """

    sheet = serializers.ChoiceField(choices=sorted(SHEETS), default="register")
    type = serializers.ChoiceField(choices=files.TYPES, default="csv")


class RiskImportInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="An XLSX workbook (first worksheet) or CSV text in UTF-8; see "
        "docs/risk-exchange.md for the columns."
    )
    sheet = serializers.ChoiceField(choices=sorted(SHEETS))


class RiskImportOutputSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


def _download(body: bytes, kind: str, filename: str) -> HttpResponse:
    """A file to save, never a page to render."""
    response = HttpResponse(body, content_type=files.CONTENT_TYPES[kind])
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    return response


class RiskExportApi(OrgApiView):
    actions = {"GET": "risk.export"}

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The answer is a file whatever Accept says (text/csv included); errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="risks_export",
        parameters=[RiskExportFilterSerializer],
        responses={
            (200, files.CONTENT_TYPES["csv"].split(";")[0]): OpenApiTypes.BINARY,
            (200, files.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
        },
        description="The register (or its treatment plan) as a file to download, filtered "
        "as the register list is. Text cells that a spreadsheet would run as a formula "
        "are neutralised with a leading apostrophe.",
    )
    def get(self, request: Request) -> HttpResponse:
        wanted = RiskExportFilterSerializer(data=request.query_params)
        wanted.is_valid(raise_exception=True)
        filters = dict(wanted.validated_data)
        sheet, kind = SHEETS[filters.pop("sheet")], filters.pop("type")
        rows = EXPORTS[sheet.name](actor=self.actor, **filters)
        org = organization_by_id(organization_id=self.actor.organization_id)
        filename = f"{org.slug}-{sheet.stem}-{timezone.localdate().isoformat()}.{kind}"
        return _download(files.write(sheet, rows, kind), kind, filename)


class RiskImportApi(OrgApiView):
    actions = {"POST": "risk.import"}
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="risks_import",
        request={"multipart/form-data": RiskImportInputSerializer},
        responses=RiskImportOutputSerializer,
        description="Every row is checked first; any error answers 400 "
        "`import_rows_invalid` listing each row, column and reason, and nothing is written.",
    )
    def post(self, request: Request) -> Response:
        data = RiskImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload, sheet = data.validated_data["file"], data.validated_data["sheet"]
        rows = files.read_upload(upload, max_bytes=settings.RISKREG_IMPORT_MAX_BYTES)
        counts = IMPORTS[sheet](actor=self.actor, rows=rows)
        return Response(RiskImportOutputSerializer(counts).data)
