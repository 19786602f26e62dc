"""Model version and assessment job pages: upload a predictions file, follow the job.

The model version page shows the version, its evidence and its jobs, and (to those who
may) the upload form, which posts to `assessment_create`: the same service as the API,
with the mapping and options passed through the API's own serializers, so a job queued
here is the job the API would queue. A refusal of the service (a column missing from the
file, a file that is not CSV or Parquet, one over the size limit) comes back as errors on
the form, with the status the API would answer.

While a job is queued or running its page reloads itself every two seconds with a
`<meta http-equiv="refresh">`: no script, so nothing for the Content-Security-Policy to
allow, and anyone may switch it off (`?refresh=off`).
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework import serializers

from evaluations.api.assessments import MappingSerializer, OptionsSerializer
from evaluations.models import AssessmentJob
from evaluations.selectors import assessments as selectors
from evaluations.selectors import evidence as evidence_selectors
from evaluations.services import assessments as services
from riskreg.inventory import selectors as inventory
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.lib.errors import ApplicationError, ValidationFailedError
from riskreg.organisations.actor import Actor
from riskreg.organisations.roles import allows
from riskreg.web.evidence_views import _with_state
from riskreg.web.forms import KIND_LABELS, AssessmentFilterForm, AssessmentForm
from riskreg.web.model_forms import ModelAssessmentForm
from riskreg.web.views import _page_of, _render, page

POST = ("POST",)
# What the model version page lists of each; the rest is one link away.
SHOWN = 20
REFRESH_SECONDS = 2
# The service names fields as the API does (mapping.label); the form calls them label.
FORM_FIELD = {
    "file": "file",
    "kinds": "kinds",
    "mapping.label": "label",
    "mapping.prediction": "prediction",
    "mapping.score": "score",
    "mapping.sensitive": "sensitive",
    "mapping.split": "split",
    "mapping.pos_label": "pos_label",
    "options.dataset": "dataset",
    "options.bins": "bins",
    "options.strategy": "strategy",
    "options.n_boot": "n_boot",
}
MAPPING_LABELS = [
    ("label", "Label column"),
    ("prediction", "Prediction column"),
    ("score", "Score column"),
    ("sensitive", "Sensitive columns"),
    ("split", "Split column"),
    ("pos_label", "Positive label"),
]


# --- the model version page and its upload form -----------------------------------------


def _job_rows(jobs: Iterable[AssessmentJob]) -> list[dict[str, Any]]:
    """Jobs with the kinds they compute in words, for the jobs table."""
    return [
        {"job": job, "kinds": ", ".join(KIND_LABELS.get(kind, kind) for kind in job.kinds)}
        for job in jobs
    ]


def _assessment_form(actor: Actor, *data: Any) -> AssessmentForm:
    datasets = [(d.slug, d.name) for d in inventory.dataset_list(actor=actor)]
    return AssessmentForm(*data, dataset_choices=datasets)


def _version_page(
    request: HttpRequest,
    actor: Actor,
    system: AISystem,
    version: ModelVersion,
    form: AssessmentForm | None = None,
    status: int = 200,
    *,
    model_form: Any = None,
) -> HttpResponse:
    evidence = evidence_selectors.evidence_list(
        actor=actor, system=system, model_version=version.version
    )[:SHOWN]
    jobs = selectors.assessment_job_list(actor=actor, system=system.slug).filter(
        model_version=version
    )
    may_upload = allows(actor.role, "assessment.create")
    context = {
        "system": system,
        "version": version,
        "rows": [_with_state(item) for item in evidence],
        "jobs": _job_rows(jobs[:SHOWN]),
        "may_upload": may_upload,
        "form": (form or _assessment_form(actor)) if may_upload else None,
        "model_form": (model_form or ModelAssessmentForm()) if may_upload else None,
    }
    return _render(request, actor, "web/model_version_detail.html", context, status=status)


@page("model_version.read")
def model_version_detail(
    request: HttpRequest, actor: Actor, slug: str, version: str
) -> HttpResponse:
    system = inventory.system_get(actor=actor, slug=slug)
    found = inventory.model_version_get(actor=actor, system=system, version=version)
    return _version_page(request, actor, system, found)


def _as_api(name: str, data: dict[str, Any], serializer: type[serializers.Serializer[Any]]) -> Any:
    """The mapping or options as the API would store them, defaults filled in."""
    checked = serializer(data=data)
    if not checked.is_valid():
        fields = {f"{name}.{key}": _reasons(errors) for key, errors in checked.errors.items()}
        first = next(iter(fields))
        raise ValidationFailedError(f"{first}: {fields[first][0]}", extra={"fields": fields})
    return dict(checked.validated_data)


def _reasons(errors: Any) -> list[str]:
    """A serializer's errors of one field as text (a list field nests them by index)."""
    if isinstance(errors, dict):
        return [reason for nested in errors.values() for reason in _reasons(nested)]
    return [str(reason) for reason in errors]


def _upload_errors(form: AssessmentForm, exc: ApplicationError) -> None:
    """Put the service's refusal on the form field it is about, else above the form."""
    named: dict[str, list[str]] = exc.extra.get("fields") or {}
    if not named:
        field, _, reason = exc.message.partition(": ")
        named = {field: [reason]} if field in FORM_FIELD else {}
    for field, reasons in named.items():
        for reason in reasons:
            if field in FORM_FIELD:
                form.add_error(FORM_FIELD[field], reason)
            else:
                form.add_error(None, f"{field}: {reason}")
    if not named:
        form.add_error(None, exc.message)


@page("assessment.create", methods=POST)
def assessment_create(request: HttpRequest, actor: Actor, slug: str, version: str) -> HttpResponse:
    """Upload a predictions file and queue its assessment; then follow the job's page."""
    system = inventory.system_get(actor=actor, slug=slug)
    found = inventory.model_version_get(actor=actor, system=system, version=version)
    form = _assessment_form(actor, request.POST, request.FILES)
    if not form.is_valid():
        return _version_page(request, actor, system, found, form, status=400)
    try:
        created = services.assessment_job_create(
            actor=actor,
            system=system,
            model_version=found,
            upload=form.cleaned_data["file"],
            kinds=form.cleaned_data["kinds"],
            mapping=_as_api("mapping", form.mapping(), MappingSerializer),
            options=_as_api("options", form.options(), OptionsSerializer),
        )
    except ApplicationError as exc:
        _upload_errors(form, exc)
        return _version_page(request, actor, system, found, form, status=exc.http_status)
    messages.success(request, "The predictions file is uploaded and its assessment is queued.")
    return HttpResponseRedirect(reverse("assessment-detail", args=[created.job.uid]))


# --- jobs --------------------------------------------------------------------------------


@page("assessment.read")
def assessment_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    filters = AssessmentFilterForm(request.GET)
    filters.is_valid()  # an unknown status filters nothing, as on the other lists
    status = filters.cleaned_data.get("status") or None
    rows = selectors.assessment_job_list(actor=actor, status=status)
    found = _page_of(request, rows)
    context = {"filters": filters, "page": found, "rows": _job_rows(found)}
    return _render(request, actor, "web/assessment_list.html", context)


def _duration(start: Any, end: Any) -> str:
    """'2.4 s', '3 min 05 s'; empty when either end is missing."""
    if start is None or end is None:
        return ""
    seconds = max((end - start) / timedelta(seconds=1), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _mapping_rows(job: AssessmentJob) -> list[tuple[str, str]]:
    if job.model_id is not None:
        features = job.mapping.get("features") or []
        return [
            ("Model", f"{job.model_name} ({job.model_format})"),
            ("Label column", str(job.mapping.get("label") or "")),
            ("Feature columns", ", ".join(features) if features else "every other column"),
        ]
    rows = []
    for role, label in MAPPING_LABELS:
        value = job.mapping.get(role)
        rows.append((label, ", ".join(value) if isinstance(value, list) else str(value or "")))
    return rows


@page("assessment.read")
def assessment_detail(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    job = selectors.assessment_job_get(actor=actor, uid=str(uid))
    refresh_off = request.GET.get("refresh") == "off"
    context = {
        "job": job,
        "kinds": _job_rows([job])[0]["kinds"],
        "evidence": sorted(job.evidence.all(), key=lambda item: item.kind),
        "mapping": _mapping_rows(job),
        "options": sorted(job.options.items()),
        "waited": _duration(job.created_at, job.started_at),
        "ran": _duration(job.started_at, job.finished_at),
        "refresh": REFRESH_SECONDS if not (job.done or refresh_off) else None,
        "refresh_off": refresh_off and not job.done,
        "may_cancel": allows(actor.role, "assessment.cancel") and not job.done,
    }
    return _render(request, actor, "web/assessment_detail.html", context)


@page("assessment.cancel", methods=POST)
def assessment_cancel(request: HttpRequest, actor: Actor, uid: Any) -> HttpResponse:
    job = selectors.assessment_job_get(actor=actor, uid=str(uid))
    back = reverse("assessment-detail", args=[job.uid])
    try:
        services.assessment_job_cancel(actor=actor, job=job)
    except ApplicationError as exc:  # it finished (or was cancelled) meanwhile
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(request, "The assessment is cancelled.")
    return HttpResponseRedirect(back)
