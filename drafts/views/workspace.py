"""The workspace and the draft page: the Generate form, recent drafts and the draft panel."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from prompts.forms import TemplateForm
from prompts.models import PRODUCTION, PromptTemplate
from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.models import Workspace

from .. import generation as runner
from ..forms import PickTemplateForm
from ..models import Draft
from ..panels import draft_panel_context

WORKSPACE = "drafts/workspace.html"
DETAIL = "drafts/draft_detail.html"


def panel_context(
    draft: Draft, version_number: int | None = None, *, all_versions: bool = False
) -> dict[str, object]:
    """The draft panel: live while a generation streams, else a version (the latest); one
    whose runner is gone shows as being recovered (``draft_panel_context``)."""
    active = runner.active_generation(draft.pk)
    if active is not None and not runner.is_orphan(active):
        # Here: the text so far from memory; another worker: the Redis replay from the start.
        so_far = runner.live_snapshot(active.pk)
        live = {
            "live_blocks": runner.live_blocks(so_far),
            "live_text": so_far.tail,
            "live_reasoning": so_far.reasoning,
            "live_after": so_far.seq,
        }
        return {"draft": draft, "generation": active, "live": True} | live
    version = get_object_or_404(draft.versions, number=version_number) if version_number else None
    return draft_panel_context(draft, version=version, all_versions=all_versions)


def form_context(
    space: Workspace, template_id: int | None, label: str, draft: Draft | None
) -> dict[str, object]:
    """The template picker and form: the chosen template (else the first), at the version its
    label points at. A reopened ``draft`` (``?draft=N``) fills the form with the inputs of its
    newest generation, at the template version that made it, unless another template is asked."""
    templates = PromptTemplate.objects.for_workspace(space)
    made = None
    if draft is not None:
        made = draft.generations.from_a_form().filter(template_version__template__in=templates)
        made = made.first()
    if made and template_id in (None, made.template_version.template_id):
        chosen, version = made.template_version.template, made.template_version
        labels = label_context(chosen, label)
        form = TemplateForm(version, initial=made.inputs)
        return {"templates": templates, "chosen": chosen, "form": form} | labels
    chosen = templates.filter(pk=template_id).first() or templates.first()
    labels = label_context(chosen, label)  # ?label=staging
    version = chosen.version_for(labels["label"]) if chosen else None
    form = TemplateForm(version) if version else None
    return {"templates": templates, "chosen": chosen, "form": form} | labels


def label_context(template: PromptTemplate | None, label: str) -> dict[str, object]:
    """The template form's label picker: the template's labels besides ``production`` (none:
    no picker) and the chosen one ("" for production; an unknown label falls back to it)."""
    others = [n for n in template.label_names() if n != PRODUCTION] if template else []
    return {"other_labels": others, "label": label if label in others else ""}


def _recent_drafts(space: Workspace) -> list[Draft]:
    """The studio's Recent drafts: experiment runs' drafts are reviewed on their run pages."""
    return list(space.drafts.alive().not_from_experiments().recent()[:8])


@require_GET
def workspace(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The studio: pick a template and fill its form (left), the draft streams in (right)."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=pk)
    if request.htmx.target == "recent-drafts":  # the list refreshing itself after a generation
        context = {"workspace": space, "recent_drafts": _recent_drafts(space)}
        return render(request, f"{WORKSPACE}#recent-drafts", context)
    picked = PickTemplateForm(request.GET)
    picked.is_valid()  # bad ids are simply ignored
    draft_id = picked.cleaned_data.get("draft")
    drafts = space.drafts.alive().with_panel_flags()  # the panel's questions, in its query
    draft = get_object_or_404(drafts, pk=draft_id) if draft_id else None
    context = {
        "workspace": space,
        "recent_drafts": _recent_drafts(space),
        **form_context(
            space, picked.cleaned_data.get("template"), request.GET.get("label", ""), draft
        ),
    }
    if draft:
        context |= panel_context(draft)
    if request.htmx.target == "template-form":
        return render(request, f"{WORKSPACE}#template-form", context)
    return render(request, WORKSPACE, context)


@require_GET
def draft_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A draft: its text (a chosen version, the latest by default) and its versions."""
    drafts = Draft.objects.for_user(request.user).select_related("workspace")
    draft = get_object_or_404(drafts.with_panel_flags(), pk=pk)
    number = request_number(request.GET.get("v"))  # anything else: the latest version
    context = panel_context(draft, number, all_versions=request.GET.get("versions") == "all")
    if not request.htmx:
        return render(request, DETAIL, context)
    response = render(request, f"{DETAIL}#draft-panel", context)
    # A version picked on the draft's own page: its URL says which (a reload, a shared link,
    # Back). In the workspace the panel is a part of that page, whose URL stays.
    if number and (request.htmx.current_url_abs_path or "").startswith(draft.get_absolute_url()):
        push_url(response, request.get_full_path())
    return response
