"""Catalog API: the AI RMF 1.0 subcategories in our words, with id and page."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from controls import selectors
from controls.models import Scope, Subcategory
from riskreg.organisations.apiview import OrgApiView


class SubcategoryOutputSerializer(serializers.Serializer[Subcategory]):
    id = serializers.CharField()
    function = serializers.CharField(source="category.function_id")
    category = serializers.CharField(source="category_id")
    category_summary = serializers.CharField(source="category.summary")
    outcome = serializers.CharField()
    page = serializers.IntegerField(help_text="Page number printed in NIST AI 100-1.")
    scope = serializers.ChoiceField(choices=Scope.choices)
    characteristic = serializers.CharField()


class CatalogApi(OrgApiView):
    actions = {"GET": "catalog.read"}

    @extend_schema(
        operation_id="catalog_list",
        parameters=[
            OpenApiParameter(
                "function", str, required=False, enum=["GOVERN", "MAP", "MEASURE", "MANAGE"]
            )
        ],
        responses=SubcategoryOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows: Any = selectors.subcategory_list(function=request.query_params.get("function"))
        return Response(SubcategoryOutputSerializer(rows, many=True).data)
