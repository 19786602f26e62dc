"""AI inventory API: systems, model versions, datasets."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.inventory import selectors, services
from riskreg.inventory.models import (
    VERSION_PATTERN,
    AISystem,
    DeploymentContext,
    LifecycleStage,
    ModelStatus,
    ModelVersion,
    RiskTier,
)
from riskreg.lib.api import paginated, paginated_response
from riskreg.organisations.apiview import OrgApiView

SHA256 = r"^[0-9a-f]{64}$"


class SystemOutputSerializer(serializers.Serializer[AISystem]):
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    intended_purpose = serializers.CharField()
    owner = serializers.CharField(source="owner.user.username", allow_null=True, default=None)
    business_unit = serializers.CharField()
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices)
    deployment_context = serializers.ChoiceField(choices=DeploymentContext.choices)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    is_generative = serializers.BooleanField()
    supplier = serializers.CharField()
    base_model = serializers.CharField()
    model_version_count = serializers.IntegerField(default=0)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SystemInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000, allow_blank=True, required=False)
    intended_purpose = serializers.CharField(max_length=10000, allow_blank=True, required=False)
    owner = serializers.CharField(max_length=150, allow_null=True, required=False)
    business_unit = serializers.CharField(max_length=200, allow_blank=True, required=False)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False)
    deployment_context = serializers.ChoiceField(choices=DeploymentContext.choices, required=False)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    is_generative = serializers.BooleanField(required=False)
    supplier = serializers.CharField(max_length=200, allow_blank=True, required=False)
    base_model = serializers.CharField(max_length=200, allow_blank=True, required=False)


class SystemCreateInputSerializer(SystemInputSerializer):
    slug = serializers.SlugField(max_length=64)


def _owner_args(data: dict[str, Any]) -> dict[str, Any]:
    """Split the owner out: a username sets it, an explicit null clears it."""
    if "owner" not in data:
        return {}
    owner = data.pop("owner")
    return {"owner": owner} if owner else {"clear_owner": True}


class SystemsApi(OrgApiView):
    actions = {"GET": "system.read", "POST": "system.create"}

    @extend_schema(operation_id="systems_list", responses=paginated(SystemOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.system_list(actor=self.actor)
        return paginated_response(request, self, rows, SystemOutputSerializer)

    @extend_schema(
        operation_id="systems_create",
        request=SystemCreateInputSerializer,
        responses={201: SystemOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = SystemCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner = fields.pop("owner", None)
        system = services.system_create(actor=self.actor, owner=owner, **fields)
        system = selectors.system_get(actor=self.actor, slug=system.slug)
        return Response(SystemOutputSerializer(system).data, status=status.HTTP_201_CREATED)


class SystemDetailApi(OrgApiView):
    actions = {"GET": "system.read", "PATCH": "system.update"}

    @extend_schema(operation_id="systems_retrieve", responses=SystemOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        return Response(SystemOutputSerializer(system).data)

    @extend_schema(
        operation_id="systems_update",
        request=SystemInputSerializer(partial=True),
        responses=SystemOutputSerializer,
    )
    def patch(self, request: Request, slug: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        data = SystemInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.system_update(actor=self.actor, system=system, **_owner_args(fields), **fields)
        return Response(
            SystemOutputSerializer(selectors.system_get(actor=self.actor, slug=slug)).data
        )


class ModelVersionOutputSerializer(serializers.Serializer[ModelVersion]):
    system = serializers.CharField(source="system.slug")
    version = serializers.CharField()
    status = serializers.ChoiceField(choices=ModelStatus.choices)
    framework = serializers.CharField()
    artifact_sha256 = serializers.CharField()
    training_datasets = serializers.SerializerMethodField()
    parent = serializers.CharField(source="parent.version", allow_null=True, default=None)  # type: ignore[assignment]  # field named like a Field attribute
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_training_datasets(self, mv: ModelVersion) -> list[str]:
        return [d.slug for d in mv.training_datasets.all()]


class ModelVersionUpdateInputSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=ModelStatus.choices, required=False)
    framework = serializers.CharField(max_length=100, allow_blank=True, required=False)
    artifact_sha256 = serializers.RegexField(SHA256, allow_blank=True, required=False)


class ModelVersionCreateInputSerializer(ModelVersionUpdateInputSerializer):
    version = serializers.RegexField(VERSION_PATTERN, max_length=64)
    training_datasets = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=100
    )
    parent = serializers.CharField(max_length=64, allow_null=True, required=False)  # type: ignore[assignment]  # field named like a Field attribute


class ModelVersionsApi(OrgApiView):
    actions = {"GET": "model_version.read", "POST": "model_version.create"}

    @extend_schema(
        operation_id="model_versions_list", responses=paginated(ModelVersionOutputSerializer)
    )
    def get(self, request: Request, slug: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        rows = selectors.model_version_list(actor=self.actor, system=system)
        return paginated_response(request, self, rows, ModelVersionOutputSerializer)

    @extend_schema(
        operation_id="model_versions_create",
        request=ModelVersionCreateInputSerializer,
        responses={201: ModelVersionOutputSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        data = ModelVersionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mv = services.model_version_create(actor=self.actor, system=system, **data.validated_data)
        mv = selectors.model_version_get(actor=self.actor, system=system, version=mv.version)
        return Response(ModelVersionOutputSerializer(mv).data, status=status.HTTP_201_CREATED)


class ModelVersionDetailApi(OrgApiView):
    actions = {"GET": "model_version.read", "PATCH": "model_version.update"}

    @extend_schema(operation_id="model_versions_retrieve", responses=ModelVersionOutputSerializer)
    def get(self, request: Request, slug: str, version: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        mv = selectors.model_version_get(actor=self.actor, system=system, version=version)
        return Response(ModelVersionOutputSerializer(mv).data)

    @extend_schema(
        operation_id="model_versions_update",
        request=ModelVersionUpdateInputSerializer,
        responses=ModelVersionOutputSerializer,
    )
    def patch(self, request: Request, slug: str, version: str) -> Response:
        system = selectors.system_get(actor=self.actor, slug=slug)
        mv = selectors.model_version_get(actor=self.actor, system=system, version=version)
        data = ModelVersionUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.model_version_update(actor=self.actor, model_version=mv, **data.validated_data)
        mv = selectors.model_version_get(actor=self.actor, system=system, version=version)
        return Response(ModelVersionOutputSerializer(mv).data)


class DatasetOutputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    slug = serializers.CharField()
    version = serializers.CharField()
    content_sha256 = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # field named like a Field attribute
    licence = serializers.CharField()
    collection_start = serializers.DateField(allow_null=True)
    collection_end = serializers.DateField(allow_null=True)
    contains_personal_data = serializers.BooleanField()
    intended_use = serializers.CharField()
    known_limitations = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DatasetInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=64, allow_blank=True, required=False)
    content_sha256 = serializers.RegexField(SHA256, allow_blank=True, required=False)
    source = serializers.CharField(max_length=500, allow_blank=True, required=False)  # type: ignore[assignment]  # field named like a Field attribute
    licence = serializers.CharField(max_length=200, allow_blank=True, required=False)
    collection_start = serializers.DateField(allow_null=True, required=False)
    collection_end = serializers.DateField(allow_null=True, required=False)
    contains_personal_data = serializers.BooleanField(required=False)
    intended_use = serializers.CharField(max_length=10000, allow_blank=True, required=False)
    known_limitations = serializers.CharField(max_length=10000, allow_blank=True, required=False)


class DatasetCreateInputSerializer(DatasetInputSerializer):
    slug = serializers.SlugField(max_length=64)


class DatasetsApi(OrgApiView):
    actions = {"GET": "dataset.read", "POST": "dataset.create"}

    @extend_schema(operation_id="datasets_list", responses=paginated(DatasetOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.dataset_list(actor=self.actor)
        return paginated_response(request, self, rows, DatasetOutputSerializer)

    @extend_schema(
        operation_id="datasets_create",
        request=DatasetCreateInputSerializer,
        responses={201: DatasetOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = DatasetCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_create(actor=self.actor, **data.validated_data)
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(OrgApiView):
    actions = {"GET": "dataset.read", "PATCH": "dataset.update"}

    @extend_schema(operation_id="datasets_retrieve", responses=DatasetOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        dataset = selectors.dataset_get(actor=self.actor, slug=slug)
        return Response(DatasetOutputSerializer(dataset).data)

    @extend_schema(
        operation_id="datasets_update",
        request=DatasetInputSerializer(partial=True),
        responses=DatasetOutputSerializer,
    )
    def patch(self, request: Request, slug: str) -> Response:
        dataset = selectors.dataset_get(actor=self.actor, slug=slug)
        data = DatasetInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_update(actor=self.actor, dataset=dataset, **data.validated_data)
        return Response(DatasetOutputSerializer(dataset).data)
