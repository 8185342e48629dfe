"""Workspace, draft and generation views: thin, typed, one page each, partials for htmx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from prompts.forms import TemplateForm
from prompts.models import PRODUCTION, PromptTemplate
from studio import streams
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded
from studio.http import HtmxHttpRequest, request_number
from studio.streams import Done, last_event_id, relay, release_connections
from studio.tuning import threadless
from studio.workspaces.access import may_edit
from studio.workspaces.models import Workspace

from . import generation as runner
from .forms import PickTemplateForm
from .generate import NotAllowed, start_follow_up
from .models import Draft, Generation
from .panels import draft_panel_context, render_draft_panel

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
        text, reasoning, seq = runner.live_snapshot(active.pk) or ("", "", 0)
        live = {"live_text": text, "live_reasoning": reasoning, "live_after": seq}
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
    draft = get_object_or_404(space.drafts.alive(), pk=draft_id) if draft_id else None
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
    draft = get_object_or_404(
        Draft.objects.for_user(request.user).select_related("workspace"), pk=pk
    )
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


RECOVERING = "recovering"  # a lost generation's end: its panel shows it being recovered


def _ended(generation: Generation, *, lost: bool = False) -> Done:
    ids = {"generation": generation.pk, "draft": generation.draft_id}
    return Done(RECOVERING if lost else generation.status, ids)


class _Settled:
    """A relay watcher's check after each quiet spell: the end once the generation has ended,
    or the one showing it being recovered once no process runs it (``drafts.sweeper`` ends
    it: a watcher only reads); else None.

    Lost takes two quiet checks in a row (a heartbeat period apart): Redis back from an
    outage, empty, answers before the runner's heartbeat has been written again (within
    REDIS_BACKOFF_CAP), and one look in that gap must not end a running stream. Each check
    runs in a worker thread and closes its database connection: a watcher must not hold one
    for the life of a stream."""

    def __init__(self, generation_id: int) -> None:
        self.generation_id = generation_id
        self.suspect = False  # the previous check found no process running it

    def __call__(self) -> Done | None:
        try:
            generation = Generation.objects.get(pk=self.generation_id)
            if not generation.is_active:
                return _ended(generation)
            orphan = runner.is_orphan(generation)
            lost, self.suspect = orphan and self.suspect, orphan
            return _ended(generation, lost=True) if lost else None
        finally:
            release_connections()


def _source(generation: Generation, lost: bool, after: int) -> AsyncIterator[bytes | Done]:
    """The generation's frames after ``after`` and its end: from this worker's log, from
    the Redis relay while another worker runs it, else (ended, or ``lost``) only the end."""
    pk, heartbeat = generation.pk, settings.GENERATION_SSE_HEARTBEAT
    if (log := runner.get_log(pk)) is not None:
        batch, rate = settings.GENERATION_SSE_BATCH, settings.GENERATION_SSE_RATE
        return streams.follow(log, after=after, batch=batch, rate=rate, heartbeat=heartbeat)
    if generation.is_active and not lost and relay.enabled():
        when_idle = sync_to_async(_Settled(pk))
        return relay.follow(pk, after=after, heartbeat=heartbeat, when_idle=when_idle)
    return streams.only(_ended(generation, lost=lost))


def _watch(request: HttpRequest, pk: int) -> tuple[Generation, bool]:
    """The generation the user may watch and whether it is lost (no worker runs it:
    ``drafts.sweeper`` ends it, the watcher gets the panel showing it being recovered at
    once): one trip to the request's thread, not one per query; then the database connection
    goes back before a possibly long stream."""
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=pk)
    lost = runner.get_log(pk) is None and runner.is_orphan(generation)
    release_connections()
    return generation, lost


def final_panel(request: HttpRequest, done: Done, language: str) -> str:
    """The finished panel for the watcher whose request this is: in their language, with
    their role's controls and their CSRF token (sync). Rendered once, at the end; a lost
    generation's panel shows it being recovered."""
    if done.status in Generation.ACTIVE or done.status == runner.UNRECORDED:
        return ""  # still running elsewhere (no relay), or its end could not be saved
    try:
        with translation.override(language):
            return render_draft_panel(done.ids["draft"], request)
    finally:
        release_connections()


@require_GET
async def generation_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """SSE for one generation. Read-only: watching never starts or changes anything."""
    generation, lost = await sync_to_async(_watch)(request, pk)
    language = translation.get_language()

    async def render(done: Done) -> str:
        if request.GET.get("final") == "none":  # e.g. blind A/B columns: the panel names the draft
            return ""
        return await sync_to_async(final_panel)(request, done, language)

    source = _source(generation, lost, last_event_id(request))
    return streams.response(threadless(streams.frames(source, render)))


@require_POST
@may_edit(of="draft")
async def follow_up(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Regenerate a draft, or continue its unfinished text (the button's ``action``)."""
    user = await request.auser()
    draft = await aget_object_or_404(Draft.objects.for_user(user), pk=pk)
    try:
        generation = await sync_to_async(start_follow_up)(
            draft=draft,
            user=user,
            mode=request.POST.get("action", ""),
            origin=Origin.from_request(request),
            loop=asyncio.get_running_loop(),
        )
    except BudgetExceeded as exc:
        return HttpResponse(exc.message, status=429, headers={"Retry-After": exc.retry_after})
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=403)
    except ValueError as exc:
        return HttpResponse(str(exc), status=409)
    await runner.asked(generation.pk)
    if not request.htmx:
        return redirect(draft)
    context = {"draft": draft, "generation": generation, "live": True, "live_after": 0}
    return await sync_to_async(render)(request, f"{DETAIL}#draft-panel", context)


@require_POST
@may_edit(of="generation")
async def cancel_generation(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The Stop button: end the generation, keeping the text so far."""
    user = await request.auser()
    generation = await aget_object_or_404(Generation.objects.for_user(user), pk=pk)
    if not await runner.request_stop(generation):  # Redis is away: say so, never a silent 204
        message = _("The generation could not be stopped just now. Try again in a moment.")
        response = HttpResponse(message, status=503, headers={"Retry-After": "5"})
        if request.htmx:
            response["HX-Retarget"] = "#toasts"  # studio.js shows it as a toast
        return response
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("drafts:detail", generation.draft_id)
