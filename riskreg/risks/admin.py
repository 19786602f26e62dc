from django.contrib import admin

from riskreg.organisations.admin import ReadOnlyAdmin
from riskreg.risks.models import Risk


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "status", "organization")
    list_select_related = ("organization",)
