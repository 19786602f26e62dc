"""/healthz (the process answers) and /readyz (database, broker and a worker answer)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from riskreg.lib.errors import envelope
from riskreg.ops import selectors


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    database = selectors.database_ok()
    # Heartbeats live in the database: without it, no worker can be seen.
    worker = selectors.worker_alive() if database else None
    checks = {"database": database, "broker": selectors.broker_ok(), "worker": worker is not None}
    ready = all(checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks, "worker": worker},
        status=200 if ready else 503,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for URLs no route matches: the error envelope under /api/, the page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(envelope("not_found", "Not found."), status=404)
    return page_not_found(request, exception)
