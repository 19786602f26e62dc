"""A strict Content-Security-Policy on every response.

Django 5.2 has no CSP support of its own. The UI and the API docs use no inline
script or style, so the policy allows only our own origin.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", POLICY)
        return response


class RejectNulMiddleware:
    """Answer 400 to a NUL byte in the path or query string.

    PostgreSQL cannot store or compare text containing NUL, so such a value
    reaching a query is a 500; no valid slug, reference or filter contains one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            # No object's URL contains NUL: the same answer as any unknown object.
            return _refuse(request, 404, "not_found", "Not found.")
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in query or "%00" in query:
            return _refuse(
                request, 400, "malformed_request", "The query string contains a NUL byte."
            )
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    from django.http import HttpResponse, JsonResponse

    from riskreg.lib.errors import envelope

    if request.path_info.startswith("/api/"):
        return JsonResponse(envelope(code, message), status=status)
    return HttpResponse(message, status=status, content_type="text/plain")
