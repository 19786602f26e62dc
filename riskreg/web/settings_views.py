"""Settings pages: the caller's API tokens, the members and the service accounts.

Every write goes through riskreg.organisations.services, as the API does; a refusal of
a service (the last admin, a slug taken, ...) comes back as a message on the page.
A new key is rendered once, in the answer to the POST that issued it, and never stored.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import ApplicationError
from riskreg.organisations import selectors, services
from riskreg.organisations.actor import Actor
from riskreg.organisations.models import ApiToken
from riskreg.organisations.roles import Role, allows
from riskreg.web.forms import MemberForm, RevokeForm, RoleForm, ServiceAccountForm, TokenForm
from riskreg.web.views import _render, page

POST = ("POST",)
# (url name, label, action): the settings pages the role may open.
TABS = [
    ("settings-tokens", "API tokens", "token.read"),
    ("settings-members", "Members", "member.read"),
    ("settings-service-accounts", "Service accounts", "service_account.read"),
    ("settings-risk-matrix", "Risk matrix", "risk_matrix.read"),
    ("settings-notifications", "Notifications", "notification.read"),
]


def _settings(
    request: HttpRequest, actor: Actor, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    here = (request.resolver_match.url_name if request.resolver_match else None) or ""
    tabs = [
        {"url": reverse(name), "label": label, "current": here.startswith(name.rstrip("s"))}
        for name, label, action in TABS
        if allows(actor.role, action)
    ]
    return _render(request, actor, template, {**context, "tabs": tabs}, status=status)


def _key_page(request: HttpRequest, actor: Actor, token: ApiToken, key: str) -> HttpResponse:
    """The one answer that holds the key; no cache may keep it."""
    response = _settings(request, actor, "web/token_created.html", {"token": token, "key": key})
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, exc: ApplicationError, to: str) -> HttpResponse:
    messages.error(request, exc.message)
    return HttpResponseRedirect(reverse(to))


# --- tokens ----------------------------------------------------------------------------


def _tokens_page(
    request: HttpRequest, actor: Actor, form: TokenForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "tokens": selectors.token_list(actor=actor, mine=True),
        "form": form or TokenForm(),
    }
    return _settings(request, actor, "web/settings_tokens.html", context, status=status)


@page("token.read")
def tokens(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _tokens_page(request, actor)


@page("token.create", methods=POST)
def token_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, actor, form, status=400)
    membership = selectors.membership_of_actor(actor=actor)
    try:
        token, key = services.token_create(actor=actor, membership=membership, **form.cleaned_data)
    except ApplicationError as exc:
        return _refused(request, exc, "settings-tokens")
    return _key_page(request, actor, token, key)


@page("token.revoke", methods=("GET", "HEAD", "POST"))
def token_revoke(request: HttpRequest, actor: Actor, prefix: str) -> HttpResponse:
    """GET asks for confirmation; POST revokes. Admins may revoke any token of the org."""
    token = selectors.token_get(actor=actor, prefix=prefix)
    form = RevokeForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        context = {"token": token, "form": form}
        return _settings(request, actor, "web/token_revoke.html", context)
    try:
        services.token_revoke(actor=actor, token=token, **form.cleaned_data)
    except ApplicationError as exc:
        return _refused(request, exc, "settings-tokens")
    messages.success(request, f"Token {token.prefix}… ({token.name}) is revoked.")
    back = (
        "settings-tokens"
        if token.membership_id == actor.membership_id
        else "settings-service-accounts"
    )
    return HttpResponseRedirect(reverse(back))


# --- members ---------------------------------------------------------------------------


def _members_page(
    request: HttpRequest, actor: Actor, form: MemberForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "members": selectors.member_list(actor=actor),
        "roles": Role.choices,
        "may_manage": allows(actor.role, "member.update"),
        "form": form or MemberForm(),
    }
    return _settings(request, actor, "web/settings_members.html", context, status=status)


@page("member.read")
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _members_page(request, actor)


@page("member.create", methods=POST)
def member_add(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = MemberForm(request.POST)
    if not form.is_valid():
        return _members_page(request, actor, form, status=400)
    data = form.cleaned_data
    try:
        services.membership_add(
            actor=actor, username=data["username"], role=Role(data["role"]), email=data["email"]
        )
    except ApplicationError as exc:
        return _refused(request, exc, "settings-members")
    messages.success(request, f"{data['username']} is now a member.")
    return HttpResponseRedirect(reverse("settings-members"))


@page("member.update", methods=POST)
def member_role(request: HttpRequest, actor: Actor, username: str) -> HttpResponse:
    member = selectors.member_get(actor=actor, username=username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return HttpResponseRedirect(reverse("settings-members"))
    role = Role(form.cleaned_data["role"])
    try:
        services.membership_change_role(actor=actor, membership=member, role=role)
    except ApplicationError as exc:
        return _refused(request, exc, "settings-members")
    messages.success(request, f"{username} is now {role.label}.")
    return HttpResponseRedirect(reverse("settings-members"))


# --- service accounts ------------------------------------------------------------------


def _account_form(actor: Actor, data: Any = None) -> ServiceAccountForm:
    choices = [(s.slug, s.name) for s in inventory.system_list(actor=actor)]
    return ServiceAccountForm(data, system_choices=choices)


def _accounts_page(
    request: HttpRequest, actor: Actor, form: ServiceAccountForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "accounts": selectors.service_account_list(actor=actor),
        "may_manage": allows(actor.role, "service_account.create"),
        "form": form or _account_form(actor),
        "token_form": TokenForm(),
    }
    return _settings(request, actor, "web/settings_service_accounts.html", context, status=status)


@page("service_account.read")
def service_accounts(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _accounts_page(request, actor)


@page("service_account.create", methods=POST)
def service_account_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = _account_form(actor, request.POST)
    if not form.is_valid():
        return _accounts_page(request, actor, form, status=400)
    data = form.cleaned_data
    try:
        systems = inventory.systems_by_slugs(actor=actor, slugs=data["systems"], field="systems")
        services.service_account_create(
            actor=actor,
            name=data["name"],
            slug=data["slug"],
            role=Role(data["role"]),
            system_ids=[s.pk for s in systems],
        )
    except ApplicationError as exc:
        return _refused(request, exc, "settings-service-accounts")
    messages.success(request, f"Service account {data['slug']} created.")
    return HttpResponseRedirect(reverse("settings-service-accounts"))


@page("service_account.create", methods=POST)
def service_account_token(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    """Only admins issue service-account tokens: the same action as creating one."""
    account = selectors.service_account_get(actor=actor, slug=slug)
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name and 1 to 365 days.")
        return HttpResponseRedirect(reverse("settings-service-accounts"))
    try:
        token, key = services.token_create(
            actor=actor, service_account=account, **form.cleaned_data
        )
    except ApplicationError as exc:
        return _refused(request, exc, "settings-service-accounts")
    return _key_page(request, actor, token, key)
