"""A generation watched (SSE, read-only; the end rendered for its viewer), followed up, stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import aget_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studio import streams
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded
from studio.http import HtmxHttpRequest
from studio.middleware import FirstRead
from studio.streams import Done, last_event_id, relay, release_connections
from studio.tuning import Prepared, threadless
from studio.workspaces.access import may_edit

from .. import generation as runner
from ..generate import NotAllowed, start_follow_up
from ..models import Draft, Generation
from ..panels import render_draft_panel
from .workspace import DETAIL

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


def source(generation: Generation, lost: bool, after: int) -> AsyncIterator[bytes | Done]:
    """The generation's frames after ``after`` and its end: from this worker's log, else
    from the Redis relay (another worker runs it, or ran it: a late watcher replays the
    mirror), else (``lost``, or no relay) only the end."""
    pk, heartbeat = generation.pk, settings.GENERATION_SSE_HEARTBEAT
    if (log := runner.get_log(pk)) is not None:
        batch, rate = settings.GENERATION_SSE_BATCH, settings.GENERATION_SSE_RATE
        return streams.follow(log, after=after, batch=batch, rate=rate, heartbeat=heartbeat)
    if lost or not relay.enabled():
        return streams.only(_ended(generation, lost=lost))
    if generation.is_active:
        when_idle, announce = sync_to_async(_Settled(pk)), runner.GENERATIONS.watch_channel
        return relay.follow(
            pk, after=after, heartbeat=heartbeat, when_idle=when_idle, announce=announce
        )
    return relay.replay(pk, after=after, heartbeat=heartbeat, end=_ended(generation))


# The watched generation, as Generation.objects.for_user finds it, compiled once (tuning 7).
_WATCHED = Prepared(
    lambda pk, user_id: Generation.objects.for_user(get_user_model()(pk=user_id)).filter(pk=pk)
)


def _watch(request: HttpRequest, pk: int) -> tuple[Generation, bool]:
    """The generation the user may watch and whether it is lost (no worker runs it:
    ``drafts.sweeper`` ends it, the watcher gets the panel showing it being recovered at
    once): read in the view hooks' trip to the request's thread (``FirstRead``), not one per
    query; then the database connection goes back before a possibly long stream."""
    if not request.user.is_authenticated:
        raise Http404("No such generation.")
    try:
        generation = _WATCHED.get(pk, request.user.pk)
    except Generation.DoesNotExist:
        raise Http404("No such generation.") from None
    lost = runner.get_log(pk) is None and runner.is_orphan(generation)
    release_connections()
    return generation, lost


_watched = FirstRead(_watch)


# The final panels render on threads of their own, not on a fresh thread per stream that
# opens a database connection of its own: on SQLite each keeps its connection (opening one,
# its pragmas and then the schema read on its first query, costs a third of a panel); a
# pooled PostgreSQL connection goes back after each panel (docs/decisions/0019).
PANEL_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="final-panel")


def final_panel(request: HttpRequest, done: Done, language: str) -> str:
    """The finished panel for the watcher whose request this is: in their language, with
    their role's controls and their CSRF token (sync, on ``PANEL_THREADS``). Rendered once,
    at the end; a lost generation's panel shows it being recovered."""
    if done.status in Generation.ACTIVE or done.status == runner.UNRECORDED:
        return ""  # still running elsewhere (no relay), or its end could not be saved
    try:
        with translation.override(language):
            return render_draft_panel(done.ids["draft"], request)
    finally:
        if connection.vendor != "sqlite":
            release_connections()


@require_GET
@_watched.first
async def generation_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """SSE for one generation. Read-only: watching never starts or changes anything."""
    generation, lost = await _watched(request, pk=pk)
    language = translation.get_language()

    async def render(done: Done) -> str:
        if request.GET.get("final") == "none":  # e.g. blind A/B columns: the panel names the draft
            return ""
        panel = sync_to_async(final_panel, thread_sensitive=False, executor=PANEL_THREADS)
        return await panel(request, done, language)

    frames = source(generation, lost, last_event_id(request))
    return streams.response(threadless(streams.frames(frames, render)))


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
