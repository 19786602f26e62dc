"""The notification settings: each member's own e-mail choices, and the organisation's
webhooks (admins and officers see them, admins register and deactivate them).

Every write goes through the services the API calls (preferences_update, webhook_create,
webhook_deactivate). A webhook's secret is rendered once, in the answer to the POST that
registered it, as a new API key is.
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from riskreg.lib.errors import ApplicationError
from riskreg.notifications import selectors
from riskreg.notifications.models import Webhook
from riskreg.notifications.services import preferences, webhooks
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.web.notification_forms import PreferencesForm, WebhookForm, field_name
from riskreg.web.risk_views import _sentence
from riskreg.web.settings_views import _refused, _settings
from riskreg.web.views import page

POST = ("POST",)
HERE = "settings-notifications"
# How many of each webhook's latest deliveries the list shows.
RECENT_DELIVERIES = 5
CHOSEN = {True: "on", False: "off"}
# Refusals of webhook_create that name the form's fields; they go inline.
FIELD_CODES = ("validation_error", "webhook_address_refused")


def _preferences_form(
    actor: Actor, rows: list[dict[str, Any]], data: Any = None
) -> PreferencesForm:
    """The form, set to what is stored: a kind without a choice of its own says default."""
    defaults = {kind: actor.role in roles for kind, roles in selectors.DEFAULT_ROLES.items()}
    initial = {
        field_name(row["kind"]): CHOSEN[row["email"]] if row["source"] == "chosen" else "default"
        for row in rows
    }
    return PreferencesForm(data, initial=initial, defaults=defaults)


def _webhooks(actor: Actor) -> list[Webhook]:
    """The organisation's webhooks, each with its latest deliveries (two queries in all)."""
    return list(selectors.webhook_list_with_recent(actor=actor, recent=RECENT_DELIVERIES))


def _notifications_page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: PreferencesForm | None = None,
    webhook_form: WebhookForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = selectors.preference_list(actor=actor)
    form = form or _preferences_form(actor, rows)
    may_read_webhooks = allows(actor.role, "webhook.read")
    context = {
        "member": selectors.preference_member(actor=actor),
        "rows": [{**row, "field": form[field_name(row["kind"])]} for row in rows],
        "form": form,
        "may_update": allows(actor.role, "notification.update"),
        "may_read_webhooks": may_read_webhooks,
        "may_manage_webhooks": allows(actor.role, "webhook.manage"),
        "webhooks": _webhooks(actor) if may_read_webhooks else [],
        "webhook_form": webhook_form or WebhookForm(),
    }
    return _settings(request, actor, "web/settings_notifications.html", context, status=status)


@page("notification.read")
def notifications(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _notifications_page(request, actor)


@page("notification.update", methods=POST)
def preferences_update(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = selectors.preference_list(actor=actor)
    form = _preferences_form(actor, rows, request.POST)
    if not form.is_valid():
        return _notifications_page(request, actor, form=form, status=400)
    try:
        preferences.preferences_update(actor=actor, choices=form.choices())
    except ApplicationError as exc:
        return _refused(request, exc, HERE)
    messages.success(request, "Your e-mail choices are saved.")
    return HttpResponseRedirect(reverse(HERE))


@page("webhook.manage", methods=POST)
def webhook_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _notifications_page(request, actor, webhook_form=form, status=400)
    try:
        webhook, secret = webhooks.webhook_create(actor=actor, **form.service_arguments())
    except ApplicationError as exc:
        if not _place(form, exc):
            return _refused(request, exc, HERE)
        return _notifications_page(request, actor, webhook_form=form, status=exc.http_status)
    return _secret_page(request, actor, webhook, secret)


def _place(form: WebhookForm, exc: ApplicationError) -> bool:
    """Put a refusal on the fields it names; False when it names none of them."""
    named = (exc.extra.get("fields") or {}) if exc.code in FIELD_CODES else {}
    placed = [field for field in named if field in form.fields]
    for field in placed:
        for reason in named[field]:
            form.add_error(field, _sentence(reason))
    return bool(placed)


def _secret_page(request: HttpRequest, actor: Actor, webhook: Webhook, secret: str) -> HttpResponse:
    """The one answer that holds the secret; no cache may keep it."""
    context = {"webhook": webhook, "secret": secret}
    response = _settings(request, actor, "web/webhook_created.html", context)
    response["Cache-Control"] = "no-store"
    return response


@page("webhook.manage", methods=POST)
def webhook_deactivate(request: HttpRequest, actor: Actor, uid: UUID) -> HttpResponse:
    webhook = selectors.webhook_get(actor=actor, uid=str(uid))
    try:
        webhooks.webhook_deactivate(actor=actor, webhook=webhook)
    except ApplicationError as exc:
        return _refused(request, exc, HERE)
    messages.success(request, f"The webhook to {webhook.url} is deactivated.")
    return HttpResponseRedirect(reverse(HERE))
