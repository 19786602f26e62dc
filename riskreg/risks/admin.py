from django.contrib import admin

from riskreg.organisations.admin import ReadOnlyAdmin
from riskreg.risks.models import (
    Risk,
    RiskAcceptance,
    RiskComment,
    RiskMatrix,
    RiskReview,
    RiskScore,
    TreatmentAction,
)


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "status", "level", "organization")
    list_select_related = ("organization",)


@admin.register(RiskMatrix)
class RiskMatrixAdmin(ReadOnlyAdmin):
    list_display = ("organization", "version", "tolerance", "created_by", "created_at")
    list_select_related = ("organization",)


@admin.register(RiskScore)
class RiskScoreAdmin(ReadOnlyAdmin):
    list_display = ("risk", "kind", "likelihood", "impact", "level", "created_at")
    list_select_related = ("risk",)


@admin.register(TreatmentAction)
class TreatmentActionAdmin(ReadOnlyAdmin):
    list_display = ("risk", "number", "title", "due_date", "status")
    list_select_related = ("risk",)


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("risk", "accepted_by_label", "valid_until", "ended_at", "end_reason")
    list_select_related = ("risk",)


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyAdmin):
    list_display = ("risk", "reviewer_label", "reviewed_on", "next_review_date")
    list_select_related = ("risk",)


@admin.register(RiskComment)
class RiskCommentAdmin(ReadOnlyAdmin):
    list_display = ("risk", "author_label", "created_at")
    list_select_related = ("risk",)
