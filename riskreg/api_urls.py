"""/api/v1/ routes. Every view here is checked by the role x endpoint test."""

from django.urls import include, path

from controls.api.catalog import CatalogApi, GenAIRisksApi
from controls.api.policies import PoliciesApi
from controls.api.posture import (
    FindingsApi,
    OverridesApi,
    PostureApi,
    PostureChangesApi,
    PostureOscalApi,
)
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
from reports.api import (
    ReportApproveApi,
    ReportCertificateApi,
    ReportDetailApi,
    ReportDownloadApi,
    ReportsApi,
    ReportVerifyApi,
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
from riskreg.risks.api import workflow as risk_workflow
from riskreg.risks.api.exchange import RiskExportApi, RiskImportApi
from riskreg.risks.api.matrix import RiskMatrixApi, RiskSummaryApi
from riskreg.risks.api.register import RiskDetailApi, RisksApi, RiskTransitionApi

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("catalog/", CatalogApi.as_view(), name="catalog"),
    path("catalog/genai-risks/", GenAIRisksApi.as_view(), name="genai-risks"),
    path("policies/", PoliciesApi.as_view(), name="policies"),
    path("systems/<slug:slug>/posture/", PostureApi.as_view(), name="posture"),
    path(
        "systems/<slug:slug>/posture/changes/", PostureChangesApi.as_view(), name="posture-changes"
    ),
    path("systems/<slug:slug>/posture/oscal/", PostureOscalApi.as_view(), name="posture-oscal"),
    path("systems/<slug:slug>/overrides/", OverridesApi.as_view(), name="overrides"),
    path("systems/<slug:slug>/findings/", FindingsApi.as_view(), name="findings"),
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
    # Fixed names before risks/<reference>/, which would otherwise take them for references.
    path("risks/matrix/", RiskMatrixApi.as_view(), name="risk-matrix"),
    path("risks/summary/", RiskSummaryApi.as_view(), name="risk-summary"),
    path("risks/actions/", risk_workflow.TreatmentPlanApi.as_view(), name="treatment-plan"),
    path("risks/export/", RiskExportApi.as_view(), name="risk-export"),
    path("risks/import/", RiskImportApi.as_view(), name="risk-import"),
    path("risks/<str:reference>/", RiskDetailApi.as_view(), name="risk-detail"),
    path("risks/<str:reference>/transition/", RiskTransitionApi.as_view(), name="risk-transition"),
    path(
        "risks/<str:reference>/scores/",
        risk_workflow.RiskScoresApi.as_view(),
        name="risk-scores",
    ),
    path(
        "risks/<str:reference>/treatment/",
        risk_workflow.RiskTreatmentApi.as_view(),
        name="risk-treatment",
    ),
    path(
        "risks/<str:reference>/actions/",
        risk_workflow.RiskActionsApi.as_view(),
        name="risk-actions",
    ),
    path(
        "risks/<str:reference>/actions/<str:number>/",
        risk_workflow.RiskActionDetailApi.as_view(),
        name="risk-action-detail",
    ),
    path(
        "risks/<str:reference>/accept/", risk_workflow.RiskAcceptApi.as_view(), name="risk-accept"
    ),
    path(
        "risks/<str:reference>/acceptances/",
        risk_workflow.RiskAcceptancesApi.as_view(),
        name="risk-acceptances",
    ),
    path(
        "risks/<str:reference>/dismiss/",
        risk_workflow.RiskDismissApi.as_view(),
        name="risk-dismiss",
    ),
    path(
        "risks/<str:reference>/reviews/",
        risk_workflow.RiskReviewsApi.as_view(),
        name="risk-reviews",
    ),
    path(
        "risks/<str:reference>/comments/",
        risk_workflow.RiskCommentsApi.as_view(),
        name="risk-comments",
    ),
    path(
        "risks/<str:reference>/history/",
        risk_workflow.RiskHistoryApi.as_view(),
        name="risk-history",
    ),
    path("reports/", ReportsApi.as_view(), name="reports"),
    path("reports/certificates/", ReportCertificateApi.as_view(), name="report-certificates"),
    path("reports/verify/", ReportVerifyApi.as_view(), name="report-verify"),
    path("reports/<uuid:uid>/", ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<uuid:uid>/approve/", ReportApproveApi.as_view(), name="report-approve"),
    path("reports/<uuid:uid>/download/", ReportDownloadApi.as_view(), name="report-download"),
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
    # me/notifications/ and webhooks/: riskreg/notifications/urls.py
    path("", include("riskreg.notifications.urls")),
]
