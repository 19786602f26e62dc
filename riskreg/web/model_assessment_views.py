"""Upload a model with its evaluation data from a model version's page.

The same service as the API (`evaluations.services.model_jobs`), with the options passed
through the API's serializer; a refusal (a pickle, a disallowed operator, weights that do
not fit the architecture, a file the model cannot take) comes back on the form with the
status the API would answer. The job then has the assessment job page, like any other.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from evaluations.api.assessments import ModelOptionsSerializer
from evaluations.services import model_jobs
from riskreg.inventory import selectors as inventory
from riskreg.lib.errors import ApplicationError
from riskreg.organisations.actor import Actor
from riskreg.web.assessment_views import POST, _as_api, _version_page
from riskreg.web.model_forms import ModelAssessmentForm
from riskreg.web.views import page

# The service names fields as the API does; the form's names differ for two of them.
FORM_FIELD = {"model": "model", "architecture": "architecture", "file": "file", "kinds": "kind"}


def _errors(form: ModelAssessmentForm, exc: ApplicationError) -> None:
    field = exc.extra.get("field") or next(iter(exc.extra.get("fields") or {}), "")
    reason = exc.message.partition(": ")[2] or exc.message
    if field in FORM_FIELD:
        form.add_error(FORM_FIELD[field], reason)
    elif str(field).startswith("mapping"):
        form.add_error("label", reason)
    else:
        form.add_error(None, exc.message)


@page("assessment.create", methods=POST)
def model_assessment_create(
    request: HttpRequest, actor: Actor, slug: str, version: str
) -> HttpResponse:
    """Queue a robustness or efficiency job; then follow the job's page."""
    system = inventory.system_get(actor=actor, slug=slug)
    found = inventory.model_version_get(actor=actor, system=system, version=version)
    form = ModelAssessmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _version_page(request, actor, system, found, model_form=form, status=400)
    data = form.cleaned_data
    try:
        created = model_jobs.model_job_create(
            actor=actor,
            system=system,
            model_version=found,
            model=model_jobs.ModelUpload(data["model"], data["architecture"]),
            upload=data["file"],
            kind=data["kind"],
            mapping=form.mapping(),
            options=_as_api("options", form.options(), ModelOptionsSerializer),
        )
    except ApplicationError as exc:
        _errors(form, exc)
        return _version_page(request, actor, system, found, model_form=form, status=exc.http_status)
    messages.success(request, "The model is uploaded and its assessment is queued.")
    return HttpResponseRedirect(reverse("assessment-detail", args=[created.job.uid]))
