from django.contrib import admin

from riskreg.inventory.models import AISystem, Dataset, ModelVersion
from riskreg.organisations.admin import ReadOnlyAdmin


@admin.register(AISystem)
class AISystemAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "organization", "risk_tier", "lifecycle_stage")
    list_select_related = ("organization",)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("system", "version", "status")
    list_select_related = ("system",)


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "version", "organization")
    list_select_related = ("organization",)
