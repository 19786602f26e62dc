from django.contrib import admin

from controls.models import Subcategory
from riskreg.organisations.admin import ReadOnlyAdmin


@admin.register(Subcategory)
class SubcategoryAdmin(ReadOnlyAdmin):
    list_display = ("id", "scope", "characteristic", "page")
