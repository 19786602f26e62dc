"""Server-rendered pages; the same selectors as the API, no logic in templates."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from riskreg.inventory import selectors as inventory
from riskreg.organisations.middleware import SESSION_KEY
from riskreg.organisations.selectors import actor_for_membership, membership_list
from riskreg.risks import selectors as risks


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if not membership:
        return render(request, "web/no_organisation.html", status=403)
    actor = actor_for_membership(membership)
    counts = risks.risk_counts_by_system(actor=actor)
    systems = [(s, counts.get(s.pk, 0)) for s in inventory.system_list(actor=actor)]
    return render(request, "web/dashboard.html", {"systems": systems})


@login_required
@require_POST
def organisation_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organisation", "")
    for membership in membership_list(user=request.user):
        if membership.organization.slug == wanted:
            request.session[SESSION_KEY] = membership.organization_id
            break
    return HttpResponseRedirect(reverse("dashboard"))
