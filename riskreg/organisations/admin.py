"""Admin is read-mostly: writes that matter go through services (and the audit trail)."""

from django.contrib import admin

from riskreg.organisations.models import ApiToken, Membership, Organization, ServiceAccount


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "created_at")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "organization", "role")
    list_select_related = ("user", "organization")


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ReadOnlyAdmin):
    list_display = ("slug", "organization", "role")
    list_select_related = ("organization",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "name", "organization", "expires_at", "revoked_at")
    exclude = ("key_hash",)
    list_select_related = ("organization",)
