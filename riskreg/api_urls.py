"""/api/v1/ routes. Every view here is checked by the role x endpoint test."""

from django.urls import path

from controls.api import CatalogApi
from evaluations.api.assessments import AssessmentCancelApi, AssessmentDetailApi, AssessmentsApi
from evaluations.api.evidence import (
    EvidenceApi,
    EvidenceAttachmentApi,
    EvidenceDetailApi,
    EvidenceSchemaApi,
    EvidenceSchemasApi,
    EvidenceWithdrawApi,
)
from evaluations.api.incidents import (
    IncidentDetailApi,
    IncidentsApi,
    IncidentTimelineApi,
    IncidentTransitionApi,
)
from riskreg.audit.api import AuditEventsApi, AuditExportApi, AuditHeadApi
from riskreg.inventory.api import (
    DatasetDetailApi,
    DatasetsApi,
    ModelVersionDetailApi,
    ModelVersionsApi,
    SystemDetailApi,
    SystemsApi,
)
from riskreg.organisations.api import (
    MeApi,
    MemberDetailApi,
    MembersApi,
    ServiceAccountsApi,
    TokenRevokeApi,
    TokensApi,
)
from riskreg.risks.api import RiskDetailApi, RisksApi, RiskTransitionApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("catalog/", CatalogApi.as_view(), name="catalog"),
    path("systems/", SystemsApi.as_view(), name="systems"),
    path("systems/<slug:slug>/", SystemDetailApi.as_view(), name="system-detail"),
    path("systems/<slug:slug>/model-versions/", ModelVersionsApi.as_view(), name="model-versions"),
    path(
        "systems/<slug:slug>/model-versions/<str:version>/",
        ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    path("datasets/", DatasetsApi.as_view(), name="datasets"),
    path("datasets/<slug:slug>/", DatasetDetailApi.as_view(), name="dataset-detail"),
    path("risks/", RisksApi.as_view(), name="risks"),
    path("risks/<str:reference>/", RiskDetailApi.as_view(), name="risk-detail"),
    path("risks/<str:reference>/transition/", RiskTransitionApi.as_view(), name="risk-transition"),
    path("evidence/", EvidenceApi.as_view(), name="evidence"),
    path("evidence/schemas/", EvidenceSchemasApi.as_view(), name="evidence-schemas"),
    path("evidence/schemas/<slug:kind>/", EvidenceSchemaApi.as_view(), name="evidence-schema"),
    path("evidence/<uuid:uid>/", EvidenceDetailApi.as_view(), name="evidence-detail"),
    path("evidence/<uuid:uid>/withdraw/", EvidenceWithdrawApi.as_view(), name="evidence-withdraw"),
    path(
        "evidence/<uuid:uid>/attachments/<str:sha256>/",
        EvidenceAttachmentApi.as_view(),
        name="evidence-attachment",
    ),
    path("assessments/", AssessmentsApi.as_view(), name="assessments"),
    path("assessments/<uuid:uid>/", AssessmentDetailApi.as_view(), name="assessment-detail"),
    path("assessments/<uuid:uid>/cancel/", AssessmentCancelApi.as_view(), name="assessment-cancel"),
    path("incidents/", IncidentsApi.as_view(), name="incidents"),
    path("incidents/<str:reference>/", IncidentDetailApi.as_view(), name="incident-detail"),
    path(
        "incidents/<str:reference>/transition/",
        IncidentTransitionApi.as_view(),
        name="incident-transition",
    ),
    path(
        "incidents/<str:reference>/timeline/",
        IncidentTimelineApi.as_view(),
        name="incident-timeline",
    ),
    path("audit/events/", AuditEventsApi.as_view(), name="audit-events"),
    path("audit/head/", AuditHeadApi.as_view(), name="audit-head"),
    path("audit/export/", AuditExportApi.as_view(), name="audit-export"),
    path("tokens/", TokensApi.as_view(), name="tokens"),
    path("tokens/<slug:prefix>/revoke/", TokenRevokeApi.as_view(), name="token-revoke"),
    path("members/", MembersApi.as_view(), name="members"),
    path("members/<str:username>/", MemberDetailApi.as_view(), name="member-detail"),
    path("service-accounts/", ServiceAccountsApi.as_view(), name="service-accounts"),
]
