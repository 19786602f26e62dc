"""Evidence API: submit (a document, or another tool's results), list, read, withdraw,
download attachments, and the published schemas."""

from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from evaluations import attachments as files
from evaluations import blobstore
from evaluations.importers import FORMATS
from evaluations.models import Evidence, EvidenceContext, EvidenceKind, EvidenceState
from evaluations.paths import PATH_SYNTAX
from evaluations.selectors import evidence as selectors
from evaluations.services import evidence as services
from evaluations.validation import CURRENT_VERSION, KINDS, UnknownKindError, schema_for
from riskreg.inventory import selectors as inventory
from riskreg.lib.api import (
    cursor_paginated,
    cursor_paginated_response,
    idempotency_key,
    strict_json,
)
from riskreg.lib.errors import NotFoundError, ValidationFailedError
from riskreg.lib.parsers import SafeJSONParser
from riskreg.organisations.apiview import OrgApiView


class AttachmentOutputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    sha256 = serializers.CharField(source="blob.sha256")
    size = serializers.IntegerField(source="blob.size")
    media_type = serializers.CharField(source="blob.media_type")
    url = serializers.SerializerMethodField()

    def get_url(self, attachment: Any) -> str:
        return reverse(
            "api:evidence-attachment",
            kwargs={"uid": attachment.evidence.uid, "sha256": attachment.blob.sha256},
        )


class WithdrawalOutputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()
    by = serializers.CharField(source="actor_label")
    at = serializers.DateTimeField(source="created_at")


class SubmitterOutputSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(source="submitter_type")
    label = serializers.CharField(source="submitter_label")  # type: ignore[assignment]  # field named like a Field attribute


class ProvenanceOutputSerializer(serializers.Serializer[Any]):
    submitter = SubmitterOutputSerializer(source="*")
    tool_name = serializers.CharField()
    tool_version = serializers.CharField()
    commit_sha = serializers.CharField()
    ci_run_url = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())
    received_at = serializers.DateTimeField()


def _uid_or_none(row: Any) -> str | None:
    return str(row.uid) if row is not None else None


VERDICT_UPDATE_STATES = [("pending", "Pending"), ("done", "Done")]


class AffectedOutputSerializer(serializers.Serializer[Any]):
    system = serializers.CharField(allow_null=True)
    subcategory = serializers.CharField()
    status = serializers.CharField(help_text="A verdict status (docs/posture.md).")
    previous = serializers.CharField(allow_null=True, help_text="null for a first verdict.")
    regression = serializers.BooleanField()


class VerdictUpdateOutputSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=VERDICT_UPDATE_STATES)
    affected = AffectedOutputSerializer(many=True)


def verdict_update_body(updates: Any) -> dict[str, Any] | None:
    """The newest verdict update of an item or job (prefetched), as the API shows it."""
    newest = max(updates, key=lambda u: u.pk, default=None)
    if newest is None:
        return None
    return {"state": newest.state, "affected": newest.affected}


class EvidenceOutputSerializer(serializers.Serializer[Evidence]):
    id = serializers.UUIDField(source="uid")
    url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    schema_version = serializers.CharField()
    system = serializers.CharField(source="system.slug", allow_null=True, default=None)
    model_version = serializers.CharField(
        source="model_version.version", allow_null=True, default=None
    )
    context = serializers.ChoiceField(choices=EvidenceContext.choices)  # type: ignore[assignment]  # field named like a Field attribute
    datasets = serializers.SerializerMethodField()
    effective_date = serializers.DateField()
    expiry_date = serializers.DateField(allow_null=True)
    state = serializers.SerializerMethodField()
    document_sha256 = serializers.CharField()
    supersedes = serializers.SerializerMethodField()
    superseded_by = serializers.SerializerMethodField()
    withdrawal = serializers.SerializerMethodField()
    attachments = AttachmentOutputSerializer(many=True)
    provenance = ProvenanceOutputSerializer(source="*")
    verdict_update = serializers.SerializerMethodField(
        help_text="The verdict work this item asked for: wait for state done."
    )

    def get_url(self, item: Evidence) -> str:
        return reverse("api:evidence-detail", kwargs={"uid": item.uid})

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_datasets(self, item: Evidence) -> list[str]:
        return [d.slug for d in item.datasets.all()]

    @extend_schema_field(serializers.ChoiceField(choices=EvidenceState.choices))
    def get_state(self, item: Evidence) -> str:
        return selectors.evidence_state(item)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_supersedes(self, item: Evidence) -> str | None:
        return _uid_or_none(item.supersedes)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_superseded_by(self, item: Evidence) -> str | None:
        return _uid_or_none(getattr(item, "superseded_by", None))

    @extend_schema_field(WithdrawalOutputSerializer(allow_null=True))
    def get_withdrawal(self, item: Evidence) -> dict[str, Any] | None:
        found = getattr(item, "withdrawal", None)
        return dict(WithdrawalOutputSerializer(found).data) if found else None

    @extend_schema_field(VerdictUpdateOutputSerializer(allow_null=True))
    def get_verdict_update(self, item: Evidence) -> dict[str, Any] | None:
        return verdict_update_body(item.verdict_updates.all())


class EvidenceDetailOutputSerializer(EvidenceOutputSerializer):
    document = serializers.DictField()


class EvidenceItemsOutputSerializer(serializers.Serializer[Any]):
    items = EvidenceDetailOutputSerializer(many=True)


class ProvenanceInputSerializer(serializers.Serializer[Any]):
    tool_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tool_version = serializers.CharField(max_length=100, required=False, allow_blank=True)
    commit_sha = serializers.RegexField(r"^[0-9a-f]{7,64}$", required=False, allow_blank=True)
    ci_run_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    labels = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True), required=False
    )

    def validate_labels(self, labels: dict[str, str]) -> dict[str, str]:
        if len(labels) > 50 or any(not 0 < len(k) <= 100 for k in labels):
            raise serializers.ValidationError("at most 50 labels, names of 1 to 100 characters")
        return labels


class EvidenceSubmitInputSerializer(serializers.Serializer[Any]):
    document = serializers.DictField(help_text="The evidence document; see its kind's schema.")
    provenance = ProvenanceInputSerializer(required=False)


class DatasetRefSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=64)
    split = serializers.CharField(max_length=64)


class EnvelopeInputSerializer(serializers.Serializer[Any]):
    system = serializers.SlugField(max_length=64)
    model_version = serializers.CharField(max_length=64, required=False, allow_null=True)
    context = serializers.ChoiceField(choices=EvidenceContext.choices)  # type: ignore[assignment]  # field named like a Field attribute
    datasets = serializers.ListField(child=DatasetRefSerializer(), required=False, max_length=50)
    effective_date = serializers.DateField(required=False)
    expiry_date = serializers.DateField(required=False, allow_null=True)


class EvidenceImportInputSerializer(serializers.Serializer[Any]):
    format = serializers.ChoiceField(choices=sorted(FORMATS))
    payload = serializers.JSONField(help_text="The tool's file: a JSON object, or YAML text.")
    envelope = EnvelopeInputSerializer()
    provenance = ProvenanceInputSerializer(required=False)
    min_group_size = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, default=30
    )


class EvidenceMultipartInputSerializer(serializers.Serializer[Any]):
    """Schema-only: the multipart form of a submission, JSON parts as text."""

    document = serializers.CharField(required=False)
    provenance = serializers.CharField(required=False)
    format = serializers.ChoiceField(choices=sorted(FORMATS), required=False)
    envelope = serializers.CharField(required=False)
    payload = serializers.FileField(required=False)
    min_group_size = serializers.IntegerField(required=False)
    attachments = serializers.ListField(child=serializers.FileField(), required=False)


SUBMIT_REQUEST = PolymorphicProxySerializer(
    component_name="EvidenceSubmission",
    serializers=[EvidenceSubmitInputSerializer, EvidenceImportInputSerializer],
    resource_type_field_name=None,
)


def _form_payload(request: Request) -> Any:
    upload = request.FILES.get("payload")
    text = request.data.get("payload", "") if upload is None else upload.read()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("payload: not UTF-8 text") from exc
    if request.data.get("format") == "hf-model-index":
        return text
    return strict_json("payload", text)


def _form_body(request: Request) -> dict[str, Any]:
    """The multipart form as the JSON body it stands for."""
    body: dict[str, Any] = {}
    for name in ("document", "provenance", "envelope"):
        if name in request.data:
            body[name] = strict_json(name, str(request.data[name]))
    if "format" in request.data:
        body["format"] = request.data["format"]
        body["payload"] = _form_payload(request)
    if "min_group_size" in request.data:
        body["min_group_size"] = request.data["min_group_size"]
    return body


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    envelope = {k: v for k, v in data.items() if v is not None or k == "model_version"}
    for name in ("effective_date", "expiry_date"):
        if envelope.get(name) is not None:
            envelope[name] = envelope[name].isoformat()
    envelope["datasets"] = [dict(d) for d in envelope.get("datasets", [])]
    return envelope


def _submit(request: Request, actor: Any) -> services.Submitted:
    multipart = request.content_type.startswith("multipart/")
    body = _form_body(request) if multipart else request.data
    if not isinstance(body, dict):
        raise ValidationFailedError.for_field("non_field_errors", "expected a JSON object")
    key = idempotency_key(request)
    if "format" in body:
        imported = EvidenceImportInputSerializer(data=body)
        imported.is_valid(raise_exception=True)
        v = imported.validated_data
        return services.evidence_import(
            actor=actor,
            format=v["format"],
            payload=v["payload"],
            envelope=_envelope(dict(v["envelope"])),
            provenance=services.Provenance(**v.get("provenance", {})),
            min_group_size=v["min_group_size"],
            idempotency_key=key,
        )
    data = EvidenceSubmitInputSerializer(data=body)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    return services.evidence_submit(
        actor=actor,
        document=v["document"],
        provenance=services.Provenance(**v.get("provenance", {})),
        uploads=request.FILES.getlist("attachments") if multipart else [],
        idempotency_key=key,
    )


LIST_PARAMETERS = [
    OpenApiParameter("system", str, description="An AI system's slug."),
    OpenApiParameter("model_version", str, description="A model version of `system`."),
    OpenApiParameter("kind", str, enum=EvidenceKind.values),
    OpenApiParameter("context", str, enum=EvidenceContext.values),
    OpenApiParameter("state", str, enum=EvidenceState.values),
    OpenApiParameter("effective_from", OpenApiTypes.DATE),
    OpenApiParameter("effective_to", OpenApiTypes.DATE),
]


class EvidenceFilterSerializer(serializers.Serializer[Any]):
    system = serializers.SlugField(max_length=64, required=False)
    model_version = serializers.CharField(max_length=64, required=False)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False)
    context = serializers.ChoiceField(choices=EvidenceContext.choices, required=False)  # type: ignore[assignment]  # field named like a Field attribute
    state = serializers.ChoiceField(choices=EvidenceState.choices, required=False)
    effective_from = serializers.DateField(required=False)
    effective_to = serializers.DateField(required=False)


class EvidenceApi(OrgApiView):
    actions = {"GET": "evidence.read", "POST": "evidence.create"}
    body_names_objects = True  # a system of another organisation: 404
    parser_classes = [SafeJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="evidence_list",
        parameters=LIST_PARAMETERS,
        responses=cursor_paginated(EvidenceOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        data = EvidenceFilterSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        filters = dict(data.validated_data)
        if "system" in filters:
            filters["system"] = inventory.system_get(actor=self.actor, slug=filters["system"])
        rows = selectors.evidence_list(actor=self.actor, **filters)
        return cursor_paginated_response(request, self, rows, EvidenceOutputSerializer)

    @extend_schema(
        operation_id="evidence_create",
        request={
            "application/json": SUBMIT_REQUEST,
            "multipart/form-data": EvidenceMultipartInputSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={200: EvidenceItemsOutputSerializer, 201: EvidenceItemsOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        result = _submit(request, self.actor)
        items = selectors.evidence_list(actor=self.actor).filter(
            pk__in=[i.pk for i in result.items]
        )
        out = EvidenceItemsOutputSerializer({"items": items.order_by("id")}).data
        return Response(
            out, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


class EvidenceDetailApi(OrgApiView):
    actions = {"GET": "evidence.read"}

    @extend_schema(operation_id="evidence_retrieve", responses=EvidenceDetailOutputSerializer)
    def get(self, request: Request, uid: str) -> Response:
        item = selectors.evidence_get(actor=self.actor, uid=uid)
        return Response(EvidenceDetailOutputSerializer(item).data)


class WithdrawInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class EvidenceWithdrawApi(OrgApiView):
    actions = {"POST": "evidence.withdraw"}

    @extend_schema(
        operation_id="evidence_withdraw",
        request=WithdrawInputSerializer,
        responses=EvidenceDetailOutputSerializer,
    )
    def post(self, request: Request, uid: str) -> Response:
        item = selectors.evidence_get(actor=self.actor, uid=uid)
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.evidence_withdraw(actor=self.actor, evidence=item, **data.validated_data)
        item = selectors.evidence_get(actor=self.actor, uid=uid)
        return Response(EvidenceDetailOutputSerializer(item).data)


def _read(organization_id: int, sha256: str) -> Iterator[bytes]:
    # A generator opens the stored file only when the body is read, and closes it when it is
    # exhausted or collected, even behind a WSGI server that never calls close().
    stream = blobstore.open_blob(organization_id, sha256)
    try:
        while chunk := stream.read(64 * 1024):
            yield chunk
    finally:
        stream.close()


def attachment_response(attachment: Any) -> StreamingHttpResponse:
    """A download, never a page: attachment disposition, no sniffing, sandboxed."""
    blob = attachment.blob
    response = StreamingHttpResponse(
        _read(blob.organization_id, blob.sha256),
        content_type=files.served_type(blob.media_type),
    )
    response["Content-Length"] = str(blob.size)
    response["Content-Disposition"] = content_disposition_header(True, attachment.name) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class EvidenceAttachmentApi(OrgApiView):
    actions = {"GET": "evidence.read"}

    @extend_schema(
        operation_id="evidence_attachment",
        # The stored type for safe ones (PDF, images, plain text), octet-stream otherwise.
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, uid: str, sha256: str) -> StreamingHttpResponse:
        item = selectors.evidence_get(actor=self.actor, uid=uid)
        found = selectors.attachment_get(actor=self.actor, evidence=item, sha256=sha256)
        return attachment_response(found)


class SchemaIndexOutputSerializer(serializers.Serializer[Any]):
    kinds = serializers.ListField(child=serializers.DictField())
    path_syntax = serializers.DictField()


class EvidenceSchemasApi(OrgApiView):
    actions = {"GET": "evidence.read"}

    @extend_schema(operation_id="evidence_schemas", responses=SchemaIndexOutputSerializer)
    def get(self, request: Request) -> Response:
        kinds = [
            {
                "kind": kind,
                "version": CURRENT_VERSION[kind],
                "title": schema_for(kind).get("title", kind),
                "url": reverse("api:evidence-schema", kwargs={"kind": kind}),
            }
            for kind in KINDS
        ]
        return Response({"kinds": kinds, "path_syntax": PATH_SYNTAX})


class EvidenceSchemaApi(OrgApiView):
    actions = {"GET": "evidence.read"}

    @extend_schema(
        operation_id="evidence_schema",
        parameters=[OpenApiParameter("version", str, description="Default: the current one.")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, kind: str) -> Response:
        try:
            schema = schema_for(kind, request.query_params.get("version"))
        except UnknownKindError as exc:
            raise NotFoundError(str(exc)) from exc
        return Response(schema)
