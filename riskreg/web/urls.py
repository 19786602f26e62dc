from django.contrib.auth import views as auth_views
from django.urls import path

from riskreg.web import views

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
]
