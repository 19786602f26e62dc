from django.contrib.auth import views as auth_views
from django.urls import path

from riskreg.web import (
    assessment_views,
    evidence_views,
    exchange_views,
    matrix_views,
    model_assessment_views,
    notification_views,
    posture_views,
    report_views,
    risk_views,
    settings_views,
    views,
)

RISK = "risks/<str:reference>/"
# A subcategory in URL form: MEASURE-2.11 for "MEASURE 2.11".
POSTURE = "systems/<slug:slug>/posture/<str:subcategory>/"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisation/", views.organisation_switch, name="organisation-switch"),
    path("systems/", views.system_list, name="system-list"),
    path("systems/<slug:slug>/", views.system_detail, name="system-detail"),
    path("systems/<slug:slug>/evidence/", evidence_views.system_evidence, name="system-evidence"),
    path("systems/<slug:slug>/posture/", posture_views.system_posture, name="system-posture"),
    path(POSTURE, posture_views.subcategory_posture, name="posture-subcategory"),
    path(f"{POSTURE}override/", posture_views.subcategory_override, name="posture-override"),
    path(
        f"{POSTURE}not-applicable/",
        posture_views.subcategory_not_applicable,
        name="posture-not-applicable",
    ),
    path("systems/<slug:slug>/findings/", posture_views.system_findings, name="system-findings"),
    path(
        "systems/<slug:slug>/model-versions/<str:version>/",
        assessment_views.model_version_detail,
        name="model-version-detail",
    ),
    path(
        "systems/<slug:slug>/model-versions/<str:version>/assessments/",
        assessment_views.assessment_create,
        name="assessment-create",
    ),
    path(
        "systems/<slug:slug>/model-versions/<str:version>/model-assessments/",
        model_assessment_views.model_assessment_create,
        name="model-assessment-create",
    ),
    path("datasets/", views.dataset_list, name="dataset-list"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset-detail"),
    path("risks/", risk_views.risk_list, name="risk-list"),
    # Before RISK, which would take "import" for a reference.
    path("risks/import/", exchange_views.risk_import_form, name="risk-import-form"),
    path("risks/import/upload/", exchange_views.risk_import, name="risk-import"),
    path(RISK, risk_views.risk_detail, name="risk-detail"),
    path(f"{RISK}transition/", risk_views.risk_transition, name="risk-transition"),
    path(f"{RISK}dismiss/", risk_views.risk_dismiss, name="risk-dismiss"),
    path(f"{RISK}scores/", risk_views.risk_score, name="risk-score"),
    path(f"{RISK}treatment/", risk_views.risk_treatment, name="risk-treatment"),
    path(f"{RISK}actions/", risk_views.risk_action_create, name="risk-action-create"),
    path(
        f"{RISK}actions/<str:number>/",
        risk_views.risk_action_update,
        name="risk-action-update",
    ),
    path(f"{RISK}accept/", risk_views.risk_accept, name="risk-accept"),
    path(f"{RISK}reviews/", risk_views.risk_review, name="risk-review"),
    path(f"{RISK}comments/", risk_views.risk_comment, name="risk-comment"),
    path("evidence/", evidence_views.evidence_list, name="evidence-list"),
    path("evidence/<uuid:uid>/", evidence_views.evidence_detail, name="evidence-detail"),
    path(
        "evidence/<uuid:uid>/withdraw/",
        evidence_views.evidence_withdraw,
        name="evidence-withdraw",
    ),
    path(
        "evidence/<uuid:uid>/attachments/<slug:sha256>/",
        evidence_views.evidence_attachment,
        name="evidence-attachment",
    ),
    path("incidents/", evidence_views.incident_list, name="incident-list"),
    path("incidents/new/", evidence_views.incident_create, name="incident-create"),
    path("incidents/<str:reference>/", evidence_views.incident_detail, name="incident-detail"),
    path(
        "incidents/<str:reference>/transition/",
        evidence_views.incident_transition,
        name="incident-transition",
    ),
    path(
        "incidents/<str:reference>/root-cause/",
        evidence_views.incident_root_cause,
        name="incident-root-cause",
    ),
    path("incidents/<str:reference>/notes/", evidence_views.incident_note, name="incident-note"),
    path("assessments/", assessment_views.assessment_list, name="assessment-list"),
    path("assessments/<uuid:uid>/", assessment_views.assessment_detail, name="assessment-detail"),
    path(
        "assessments/<uuid:uid>/cancel/",
        assessment_views.assessment_cancel,
        name="assessment-cancel",
    ),
    path("reports/", report_views.report_list, name="report-list"),
    path("reports/request/", report_views.report_create, name="report-request"),
    path("reports/verify/", report_views.report_verify_upload, name="report-verify"),
    path("reports/ca.pem", report_views.report_ca_certificate, name="report-ca"),
    path("reports/<uuid:uid>/", report_views.report_detail, name="report-detail"),
    path("reports/<uuid:uid>/approve/", report_views.report_approve_draft, name="report-approve"),
    path("reports/<uuid:uid>/report.pdf", report_views.report_download, name="report-download"),
    path(
        "reports/<uuid:uid>/draft.pdf",
        report_views.report_draft_download,
        name="report-draft-download",
    ),
    path("catalog/", views.catalog, name="catalog"),
    path("policies/", posture_views.policies, name="policies"),
    path("policies/thresholds/", posture_views.policy_threshold_set, name="policy-update"),
    path("audit/", views.audit_trail, name="audit"),
    path("settings/tokens/", settings_views.tokens, name="settings-tokens"),
    path("settings/tokens/new/", settings_views.token_create, name="settings-token-create"),
    path(
        "settings/tokens/<slug:prefix>/revoke/",
        settings_views.token_revoke,
        name="settings-token-revoke",
    ),
    path("settings/members/", settings_views.members, name="settings-members"),
    path("settings/members/add/", settings_views.member_add, name="settings-member-add"),
    path(
        "settings/members/<str:username>/role/",
        settings_views.member_role,
        name="settings-member-role",
    ),
    path(
        "settings/service-accounts/",
        settings_views.service_accounts,
        name="settings-service-accounts",
    ),
    path(
        "settings/service-accounts/new/",
        settings_views.service_account_create,
        name="settings-service-account-create",
    ),
    path(
        "settings/service-accounts/<slug:slug>/tokens/",
        settings_views.service_account_token,
        name="settings-service-account-token",
    ),
    path("settings/risk-matrix/", matrix_views.risk_matrix, name="settings-risk-matrix"),
    path(
        "settings/risk-matrix/edit/",
        matrix_views.risk_matrix_update,
        name="settings-risk-matrix-update",
    ),
    path(
        "settings/notifications/",
        notification_views.notifications,
        name="settings-notifications",
    ),
    path(
        "settings/notifications/preferences/",
        notification_views.preferences_update,
        name="settings-notification-preferences",
    ),
    path(
        "settings/notifications/webhooks/",
        notification_views.webhook_create,
        name="settings-notification-webhook-create",
    ),
    path(
        "settings/notifications/webhooks/<uuid:uid>/deactivate/",
        notification_views.webhook_deactivate,
        name="settings-notification-webhook-deactivate",
    ),
]
