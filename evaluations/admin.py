from django.contrib import admin

from evaluations.models import Evidence, Incident, Withdrawal
from riskreg.organisations.admin import ReadOnlyAdmin


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("uid", "kind", "organization", "system", "effective_date", "received_at")
    list_filter = ("kind", "context")
    list_select_related = ("organization", "system")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("evidence", "actor_label", "created_at")
    list_select_related = ("evidence",)


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "organization", "severity", "status")
    list_select_related = ("organization",)
