"""Page-number pagination with a bounded page size."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class Cursor(CursorPagination):
    """Opaque cursors over a stable order: pages never shift while rows are added."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
