from django.contrib import admin

from riskreg.audit.models import AuditEvent
from riskreg.organisations.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "organization",
        "seq",
        "action",
        "object_type",
        "object_id",
        "actor_label",
        "created_at",
    )
    list_filter = ("organization",)
    list_select_related = ("organization",)
