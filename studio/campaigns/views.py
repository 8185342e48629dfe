"""Campaign pages: the list, the brief's form (new and edit), the campaign with its
deliverables (add, remove, Generate all), its export (a ZIP), the board's one stream of every
deliverable's generation (``streaming``), and Stop (a deliverable's, or all), Regenerate.

Every member reads (reviewers too); editors and owners create, edit, add and remove
deliverables and generate (``may_edit`` refuses anyone else's POST with a 403). Another
workspace's campaigns are a 404. The pages work without JavaScript: forms post and redirect.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drafts import generation as runner
from drafts.models import Generation
from drafts.views.generations import source
from studio import streams
from studio.audit.origin import Origin
from studio.http import HtmxHttpRequest
from studio.middleware import FirstRead
from studio.streams import Done, release_connections
from studio.tuning import threadless
from studio.workspaces.access import may_edit
from studio.workspaces.models import Workspace

from .actions import (
    add_deliverable,
    generate_campaign,
    generate_deliverable,
    remove_deliverable,
)
from .board import board_rows, running
from .exports import export_campaign
from .forms import CampaignForm, DeliverableForm
from .models import Campaign, Deliverable
from .review_views import review_context
from .streaming import format_cursor, multiplex, parse_cursor

LIST = "campaigns/campaign_list.html"
FORM = "campaigns/campaign_form.html"
DETAIL = "campaigns/campaign_detail.html"


def _workspace(request: HttpRequest, ws: int) -> Workspace:
    return get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    found = Campaign.objects.for_user(request.user).select_related("workspace", "owner")
    return get_object_or_404(found, pk=pk)


@require_GET
def campaign_list(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    space = _workspace(request, ws)
    campaigns = Campaign.objects.filter(workspace=space).for_listing()
    return render(request, LIST, {"workspace": space, "campaigns": campaigns})


@require_http_methods(["GET", "POST"])
@may_edit()
def campaign_create(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """A new campaign: its brief; deliverables are added on its page."""
    space = _workspace(request, ws)
    form = CampaignForm(request.POST or None, workspace=space)
    if request.method == "POST" and form.is_valid():
        form.instance.workspace, form.instance.owner = space, request.user
        campaign = form.save()
        return redirect(campaign)
    context = {"workspace": space, "form": form}
    return render(request, FORM, context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@may_edit(of="campaign")
def campaign_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign, workspace=campaign.workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Brief saved."))
        return redirect(campaign)
    context = {"workspace": campaign.workspace, "campaign": campaign, "form": form}
    return render(request, FORM, context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@may_edit(of="campaign")
def campaign_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The campaign: its brief, its deliverables with their drafts and checks, following the
    board's one stream while any is generating (htmx: the deliverables alone); a POST adds a
    deliverable."""
    campaign = _campaign(request, pk)
    form = DeliverableForm(campaign.workspace, request.POST or None)
    if request.method == "POST" and form.is_valid():
        add_deliverable(campaign=campaign, **form.cleaned_data)
        return redirect(campaign)
    rows = board_rows(campaign)
    context = {
        "workspace": campaign.workspace,
        "campaign": campaign,
        "rows": rows,
        "generating": any(row.generating or row.fitting for row in rows),
        # The board's stream follows every generation shown generating (or fitting), even
        # one that ends before the stream connects (it sends that one's end at once).
        "board_cursor": format_cursor(_followed(rows)),
        "form": form,
    }
    context.update(review_context(campaign, request.user))
    if request.htmx and request.method == "GET":
        return render(request, f"{DETAIL}#deliverables", context)
    return render(request, DETAIL, context, status=400 if form.errors else 200)


def _followed(rows: list) -> dict[int, int]:
    followed = {row.generation.pk: 0 for row in rows if row.generating}
    return followed | {row.fit.generation_id: 0 for row in rows if row.fitting}


@require_GET
def campaign_export(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The campaign as a ZIP (``exports``): every member may download it, reviewers too."""
    export = export_campaign(_campaign(request, pk))
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


@require_POST
@may_edit(of="deliverable")
def deliverable_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_or_404(Deliverable.objects.for_user(request.user), pk=pk)
    campaign = deliverable.campaign
    remove_deliverable(deliverable=deliverable)
    return redirect(campaign)


@require_POST
@may_edit(of="campaign")
async def campaign_generate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Generate all: one generation per deliverable, launched on this loop once stored."""
    return await sync_to_async(_generate)(request, pk, asyncio.get_running_loop())


def _generate(request: HtmxHttpRequest, pk: int, loop: asyncio.AbstractEventLoop) -> HttpResponse:
    campaign = _campaign(request, pk)
    origin = Origin.from_request(request)
    outcomes = generate_campaign(campaign=campaign, user=request.user, origin=origin, loop=loop)
    started = sum(outcome.generation is not None for outcome in outcomes)
    if started:
        message = ngettext(
            "Generating %(n)s deliverable.", "Generating %(n)s deliverables.", started
        )
        messages.success(request, message % {"n": started})
    for outcome in outcomes:
        if outcome.problem:
            name = outcome.deliverable.channel_name
            messages.error(request, f"{name}: {outcome.problem}")
    return redirect(campaign)


def _watch(request: HttpRequest, pk: int) -> tuple[dict[int, tuple[int, object]], dict]:
    """The board's sources (generation id → its deliverable and its frames, after where the
    cursor says): the generations running now, and those the cursor still follows (one that
    ended while the connection was cut gets its end). Then the database connection goes
    back before a possibly long stream."""
    campaign = _campaign(request, pk)
    cursor = parse_cursor(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    followed = running(campaign.deliverables.all())
    pending = [key for key, seq in cursor.items() if seq is not None and key not in followed]
    drafts = dict(campaign.deliverables.filter(draft__isnull=False).values_list("draft_id", "pk"))
    for generation in Generation.objects.filter(pk__in=pending, draft_id__in=drafts):
        generation.deliverable_id = drafts[generation.draft_id]
        followed[generation.pk] = generation
    sources = {}
    for key, generation in followed.items():
        if cursor.get(key, 0) is None:
            continue  # its end was sent already
        lost = runner.get_log(key) is None and runner.is_orphan(generation)
        frames = source(generation, lost, cursor.get(key) or 0)
        sources[key] = (generation.deliverable_id, frames)
    release_connections()
    return sources, cursor


def final_row(request: HttpRequest, pk: int, language: str) -> str:
    """A deliverable's final panel (its state, items, counters, violations) for the viewer
    whose request watches: their language, their role's controls, their CSRF token. One the
    database still shows running (its stream broke off, or its end could not be saved) ends
    its live text all the same, saying so (``lost``)."""
    try:
        deliverable = Deliverable.objects.select_related("campaign__workspace").get(pk=pk)
        campaign = deliverable.campaign
        (row,) = board_rows(campaign, only=pk)
        lost = row.generating or row.fitting
        context = {"workspace": campaign.workspace, "campaign": campaign, "row": row, "lost": lost}
        with translation.override(language):
            return render_to_string(f"{DETAIL}#deliverable", context, request=request)
    except Deliverable.DoesNotExist:  # removed while it streamed
        return ""
    finally:
        release_connections()


_watched = FirstRead(_watch)  # in the view hooks' trip


@require_GET
@_watched.first
async def campaign_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The board's one SSE stream: every deliverable's generation, multiplexed. Read-only."""
    sources, cursor = await _watched(request, pk=pk)
    language = translation.get_language()

    async def render(deliverable: int, done: Done | None) -> str:
        return await sync_to_async(final_row)(request, deliverable, language)

    heartbeat = settings.GENERATION_SSE_HEARTBEAT
    frames = multiplex(sources, cursor, render, heartbeat=heartbeat)
    return streams.response(threadless(frames))


async def _stop(request: HtmxHttpRequest, campaign: Campaign, generations) -> HttpResponse:
    if not await runner.stop_generations(generations):  # Redis is away: say so, never a silent 204
        message = _("The generation could not be stopped just now. Try again in a moment.")
        response = HttpResponse(message, status=503, headers={"Retry-After": "5"})
        if request.htmx:
            response["HX-Retarget"] = "#toasts"  # studio.js shows it as a toast
        return response
    if request.htmx:
        return HttpResponse(status=204)  # the board's stream brings each end
    return redirect(campaign)


def _running_deliverable(request: HttpRequest, pk: int) -> tuple[Campaign, list[Generation]]:
    deliverable = get_object_or_404(Deliverable.objects.for_user(request.user), pk=pk)
    found = running(Deliverable.objects.filter(pk=deliverable.pk))
    return deliverable.campaign, list(found.values())


def _running_campaign(request: HttpRequest, pk: int) -> tuple[Campaign, list[Generation]]:
    campaign = _campaign(request, pk)
    return campaign, list(running(campaign.deliverables.all()).values())


@require_POST
@may_edit(of="deliverable")
async def deliverable_stop(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A deliverable's Stop: its generation ends, keeping the text so far."""
    campaign, generations = await sync_to_async(_running_deliverable)(request, pk)
    return await _stop(request, campaign, generations)


@require_POST
@may_edit(of="campaign")
async def campaign_stop(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The campaign's Stop: every deliverable still generating ends, keeping its text."""
    campaign, generations = await sync_to_async(_running_campaign)(request, pk)
    return await _stop(request, campaign, generations)


@require_POST
@may_edit(of="deliverable")
async def deliverable_regenerate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Regenerate one deliverable into its draft (a new version), launched on this loop."""
    return await sync_to_async(_regenerate)(request, pk, asyncio.get_running_loop())


def _regenerate(request: HtmxHttpRequest, pk: int, loop: asyncio.AbstractEventLoop) -> HttpResponse:
    deliverable = get_object_or_404(Deliverable.objects.for_user(request.user), pk=pk)
    origin = Origin.from_request(request)
    outcome = generate_deliverable(
        deliverable=deliverable, user=request.user, origin=origin, loop=loop
    )
    if outcome.problem:
        return refused(request, deliverable, outcome.problem, status=409)
    return started(request, deliverable)


def started(request: HtmxHttpRequest, deliverable: Deliverable) -> HttpResponse:
    """After Regenerate or Fit to limits: htmx gets the deliverable's panel, now streaming,
    which joins the board's one stream (its ``data-follow``: studio.js opens the stream
    again with it in the cursor), and Stop all; without JavaScript the page reloads."""
    campaign = deliverable.campaign
    if not request.htmx:
        return redirect(campaign)
    (row,) = board_rows(campaign, only=deliverable.pk)
    generating = row.generating or row.fitting
    context = {"workspace": campaign.workspace, "campaign": campaign, "row": row}
    return render(request, f"{DETAIL}#started", context | {"generating": generating})


def refused(
    request: HtmxHttpRequest, deliverable: Deliverable, problem: str, *, status: int
) -> HttpResponse:
    """Regenerate or Fit to limits could not start: said on the page it came from (htmx: a
    toast, the panel left as it is; without JavaScript: a message on the reloaded page)."""
    message = f"{deliverable.channel_name}: {problem}"
    if request.htmx:
        return HttpResponse(message, status=status, headers={"HX-Retarget": "#toasts"})
    messages.error(request, message)
    return redirect(deliverable.campaign)
