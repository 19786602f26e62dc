"""Assessment jobs API: upload a predictions file for riskreg's workers, follow, cancel."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from evaluations.api.evidence import VerdictUpdateOutputSerializer, verdict_update_body
from evaluations.models import AssessmentJob, AssessmentKind, EvidenceContext, JobStatus
from evaluations.selectors import assessments as selectors
from evaluations.services import assessments as services
from evaluations.services import model_jobs
from evaluations.services.model_jobs import MODEL_KINDS
from riskreg.inventory import selectors as inventory
from riskreg.lib.api import idempotency_key, paginated, paginated_response, strict_json
from riskreg.lib.errors import ValidationFailedError
from riskreg.organisations.apiview import OrgApiView


class MappingSerializer(serializers.Serializer[Any]):
    label = serializers.CharField(max_length=200, required=False, allow_null=True)  # type: ignore[assignment]  # field named like a Field attribute
    prediction = serializers.CharField(max_length=200, required=False, allow_null=True)
    score = serializers.CharField(max_length=200, required=False, allow_null=True)
    split = serializers.CharField(max_length=200, required=False, allow_null=True)
    sensitive = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=10
    )
    pos_label = serializers.CharField(max_length=200, required=False)
    features = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=100_000,
        help_text="Robustness and efficiency: the feature columns, in order (default: every "
        "column but the label).",
    )


def _budgets(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=1e6),
        required=False,
        min_length=1,
        max_length=20,
        help_text=help_text,
    )


class ModelOptionsSerializer(serializers.Serializer[Any]):
    """Options of robustness and efficiency jobs (docs/models.md); unset ones take the
    engines' defaults."""

    linf_budgets = _budgets("FGSM and PGD budgets under the L-infinity norm.")
    l2_budgets = _budgets("FGSM and PGD budgets under the L2 norm.")
    pgd_steps = serializers.IntegerField(min_value=1, max_value=200, required=False)
    noise_severities = _budgets("Gaussian noise, in standard deviations of each feature.")
    dropout_severities = serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=1),
        required=False,
        min_length=1,
        max_length=20,
        help_text="Probabilities that a feature is replaced by its mean.",
    )
    input_bounds = serializers.ListField(
        child=serializers.FloatField(min_value=-1e9, max_value=1e9),
        required=False,
        min_length=2,
        max_length=2,
        help_text="[low, high]: every input and perturbed input lies within.",
    )
    immutable_features = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=10_000_000),
        required=False,
        max_length=10_000,
        help_text="Flattened feature indices no perturbation may change.",
    )
    batch_size = serializers.IntegerField(min_value=1, max_value=65_536, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, required=False)
    batch_sizes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=65_536),
        required=False,
        min_length=1,
        max_length=10,
        help_text="Efficiency: the batch sizes timed.",
    )
    repeats = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    warmup = serializers.IntegerField(min_value=0, max_value=1_000, required=False)
    power_watts = serializers.FloatField(min_value=0, max_value=1e6, required=False)
    grid_gco2e_per_kwh = serializers.FloatField(min_value=0, max_value=1e5, required=False)
    max_rows = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False)

    def validate_input_bounds(self, value: list[float]) -> list[float]:
        if value[0] > value[1]:
            raise serializers.ValidationError("low must not exceed high")
        return value


class OptionsSerializer(serializers.Serializer[Any]):
    dataset = serializers.SlugField(
        max_length=64, required=False, help_text="The inventory dataset measured (data quality)."
    )
    bins = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    strategy = serializers.ChoiceField(choices=["uniform", "quantile"], default="uniform")
    n_boot = serializers.IntegerField(min_value=0, max_value=10_000, default=1000)
    seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, default=0)
    min_group_size = serializers.IntegerField(min_value=1, max_value=1_000_000, default=30)
    level = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.95)


class AssessmentCreateInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="The predictions file, CSV or Parquet; for robustness and efficiency, the "
        "evaluation data (features and labels)."
    )
    model = serializers.FileField(
        required=False,
        help_text="Robustness and efficiency: the model, ONNX or safetensors (docs/models.md).",
    )
    architecture = serializers.FileField(
        required=False, help_text="With safetensors weights: the architecture JSON."
    )
    system = serializers.SlugField(max_length=64)
    model_version = serializers.CharField(max_length=64)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=AssessmentKind.choices), min_length=1, max_length=3
    )
    mapping = serializers.CharField(help_text="JSON: label, prediction, score, sensitive, split.")
    options = serializers.CharField(required=False, help_text="JSON: bins, strategy, n_boot, …")
    context = serializers.ChoiceField(choices=EvidenceContext.choices, default="evaluation")  # type: ignore[assignment]  # field named like a Field attribute

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kinds = set(attrs["kinds"])
        from_model = kinds & set(MODEL_KINDS)
        if from_model and len(kinds) > 1:
            raise serializers.ValidationError(
                {"kinds": ["robustness and efficiency each need a job of their own"]}
            )
        if from_model and "model" not in attrs:
            raise serializers.ValidationError({"model": [f"is required for {kinds.pop()}"]})
        if not from_model and ("model" in attrs or "architecture" in attrs):
            raise serializers.ValidationError(
                {"model": ["is only for robustness and efficiency jobs"]}
            )
        if "architecture" in attrs and "model" not in attrs:
            raise serializers.ValidationError({"model": ["is required with an architecture"]})
        return attrs


class AssessmentOutputSerializer(serializers.Serializer[AssessmentJob]):
    id = serializers.UUIDField(source="uid")
    url = serializers.SerializerMethodField()
    system = serializers.CharField(source="system.slug")
    model_version = serializers.CharField(source="model_version.version")
    kinds = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField()
    options = serializers.DictField()
    input_name = serializers.CharField()
    input_sha256 = serializers.CharField(source="input.sha256")
    model_name = serializers.CharField(help_text="Robustness and efficiency jobs; else empty.")
    model_format = serializers.CharField(help_text="onnx or safetensors; else empty.")
    model_sha256 = serializers.CharField(source="model.sha256", allow_null=True, default=None)
    architecture_sha256 = serializers.CharField(
        source="architecture.sha256", allow_null=True, default=None
    )
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.FloatField()
    message = serializers.CharField()
    error_code = serializers.CharField()
    deliveries = serializers.IntegerField()
    submitter = serializers.CharField(source="submitter_label")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    evidence = serializers.SerializerMethodField()
    verdict_update = serializers.SerializerMethodField(
        help_text="The verdict work the job's evidence asked for; null until the job succeeds."
    )

    @extend_schema_field(VerdictUpdateOutputSerializer(allow_null=True))
    def get_verdict_update(self, job: AssessmentJob) -> dict[str, Any] | None:
        return verdict_update_body(job.verdict_updates.all())

    def get_url(self, job: AssessmentJob) -> str:
        return reverse("api:assessment-detail", kwargs={"uid": job.uid})

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_evidence(self, job: AssessmentJob) -> list[dict[str, str]]:
        return [
            {
                "id": str(item.uid),
                "kind": item.kind,
                "url": reverse("api:evidence-detail", kwargs={"uid": item.uid}),
            }
            for item in job.evidence.all()
        ]


def _json_part(name: str, text: str | None, serializer: type[serializers.Serializer[Any]]) -> Any:
    value = strict_json(name, text or "{}")
    if not isinstance(value, dict):
        raise ValidationFailedError.for_field(name, "must be a JSON object")
    data = serializer(data=value)
    if not data.is_valid():
        fields = {f"{name}.{k}": [str(m) for m in v] for k, v in data.errors.items()}
        first = next(iter(fields))
        raise ValidationFailedError(f"{first}: {fields[first][0]}", extra={"fields": fields})
    return dict(data.validated_data)


class AssessmentsApi(OrgApiView):
    actions = {"GET": "assessment.read", "POST": "assessment.create"}
    body_names_objects = True  # a system of another organisation: 404
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="assessments_list",
        parameters=[
            OpenApiParameter("system", str, description="An AI system's slug."),
            OpenApiParameter("status", str, enum=JobStatus.values),
        ],
        responses=paginated(AssessmentOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.assessment_job_list(
            actor=self.actor,
            system=request.query_params.get("system"),
            status=request.query_params.get("status"),
        )
        return paginated_response(request, self, rows, AssessmentOutputSerializer)

    @extend_schema(
        operation_id="assessments_create",
        request={"multipart/form-data": AssessmentCreateInputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={200: AssessmentOutputSerializer, 202: AssessmentOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = AssessmentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = inventory.system_get(actor=self.actor, slug=v["system"])
        version = inventory.model_version_get(
            actor=self.actor, system=system, version=v["model_version"]
        )
        kinds = list(dict.fromkeys(v["kinds"]))
        mapping = _json_part("mapping", v["mapping"], MappingSerializer)
        if "model" in v:
            result = model_jobs.model_job_create(
                actor=self.actor,
                system=system,
                model_version=version,
                model=model_jobs.ModelUpload(v["model"], v.get("architecture")),
                upload=v["file"],
                kind=kinds[0],
                mapping=mapping,
                options=_json_part("options", v.get("options"), ModelOptionsSerializer),
                context=v["context"],
                idempotency_key=idempotency_key(request),
            )
        else:
            result = services.assessment_job_create(
                actor=self.actor,
                system=system,
                model_version=version,
                upload=v["file"],
                kinds=kinds,
                mapping=mapping,
                options=_json_part("options", v.get("options"), OptionsSerializer),
                context=v["context"],
                idempotency_key=idempotency_key(request),
            )
        job = selectors.assessment_job_get(actor=self.actor, uid=str(result.job.uid))
        out = AssessmentOutputSerializer(job).data
        code = status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK
        return Response(out, status=code, headers={"Location": out["url"]})


class AssessmentDetailApi(OrgApiView):
    actions = {"GET": "assessment.read"}

    @extend_schema(operation_id="assessments_retrieve", responses=AssessmentOutputSerializer)
    def get(self, request: Request, uid: str) -> Response:
        job = selectors.assessment_job_get(actor=self.actor, uid=uid)
        return Response(AssessmentOutputSerializer(job).data)


class CancelInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class AssessmentCancelApi(OrgApiView):
    actions = {"POST": "assessment.cancel"}

    @extend_schema(
        operation_id="assessments_cancel",
        request=CancelInputSerializer,
        responses=AssessmentOutputSerializer,
    )
    def post(self, request: Request, uid: str) -> Response:
        job = selectors.assessment_job_get(actor=self.actor, uid=uid)
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.assessment_job_cancel(actor=self.actor, job=job, **data.validated_data)
        job = selectors.assessment_job_get(actor=self.actor, uid=uid)
        return Response(AssessmentOutputSerializer(job).data)
