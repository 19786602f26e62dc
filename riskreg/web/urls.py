from django.contrib.auth import views as auth_views
from django.urls import path

from riskreg.web import settings_views, views

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
    path("datasets/", views.dataset_list, name="dataset-list"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset-detail"),
    path("risks/", views.risk_list, name="risk-list"),
    path("catalog/", views.catalog, name="catalog"),
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
]
