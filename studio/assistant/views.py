"""The assistant panel on a draft: the conversation, Ask (POST, streams), Clear, and the SSE.

Each user has their own conversation per draft: every query starts from the user's drafts
(another workspace's draft is a 404) and the user's own messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from drafts.models import Draft
from studio import streams
from studio.audit.recording import request_origin
from studio.guardrails.budgets import BudgetExceeded, acheck_token_budget
from studio.http import HtmxHttpRequest
from studio.streams import Done, last_event_id, relay, release_connections
from studio.tuning import threadless

from . import actions, runner
from .forms import AskForm
from .models import AssistantMessage

PANEL = "assistant/panel.html"


def panel_context(draft: Draft, user, **extra: object) -> dict[str, object]:
    conversation = AssistantMessage.objects.conversation(user=user, draft=draft)
    return {"draft": draft, "chat": list(conversation), **extra}


@require_GET
def panel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The conversation (htmx: the panel only)."""
    draft = get_object_or_404(Draft.objects.for_user(request.user), pk=pk)
    context = panel_context(draft, request.user)
    return render(request, f"{PANEL}#assistant-panel" if request.htmx else PANEL, context)


@require_POST
async def ask(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the question, start the answer streaming, show the panel following it.

    A question that may not be asked (empty, too long, blocked, over budget) comes back in
    the panel with the reason, as typed, with or without htmx."""
    user = await request.auser()
    draft = await aget_object_or_404(Draft.objects.for_user(user), pk=pk)
    form = AskForm(request.POST)
    error = await _start_answer(request, draft, user, form)
    if not request.htmx and not error:
        return redirect(draft)
    question = form.data.get("question", "") if error else ""
    context = await sync_to_async(panel_context)(draft, user, error=error, question=question)
    template = f"{PANEL}#assistant-panel" if request.htmx else PANEL
    return await sync_to_async(render)(request, template, context)


async def _start_answer(request: HtmxHttpRequest, draft: Draft, user, form: AskForm) -> str:
    """Ask the form's question and start the answer; "" once it streams, else why not."""
    if not form.is_valid():
        return " ".join(form.errors["question"])
    try:
        await acheck_token_budget(user, request=request, workspace_id=draft.workspace_id)
        message, messages = await sync_to_async(actions.ask)(
            draft=draft,
            user=user,
            question=form.cleaned_data["question"],
            window=settings.ASSISTANT_CONTEXT_MESSAGES,
        )
    except BudgetExceeded as exc:
        return exc.message
    except ValidationError as exc:  # the draft or the conversation holds what may not go
        return " ".join(exc.messages)
    runner.launch(message.pk, messages=messages, origin=request_origin(request), user_id=user.pk)
    return ""


@require_POST
def clear(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Clear conversation: this user's messages about this draft, nobody else's."""
    draft = get_object_or_404(Draft.objects.for_user(request.user), pk=pk)
    actions.clear(draft=draft, user=request.user)
    if not request.htmx:
        return redirect(draft)
    return render(request, f"{PANEL}#assistant-panel", panel_context(draft, request.user))


def _latest_answer(user, draft: Draft) -> AssistantMessage | None:
    try:
        conversation = AssistantMessage.objects.conversation(user=user, draft=draft)
        return conversation.filter(role="assistant").latest_first().first()
    finally:
        release_connections()


@require_GET
async def events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """SSE for the user's latest answer on this draft. Read-only: it never asks anything."""
    user = await request.auser()
    draft = await aget_object_or_404(Draft.objects.for_user(user), pk=pk)
    message = await sync_to_async(_latest_answer)(user, draft)
    log = runner.get_log(message.pk) if message else None
    after, heartbeat = last_event_id(request), settings.GENERATION_SSE_HEARTBEAT
    if log is not None:
        batch, rate = settings.GENERATION_SSE_BATCH, settings.GENERATION_SSE_RATE
        source = streams.follow(log, after=after, batch=batch, rate=rate, heartbeat=heartbeat)
    elif message is not None and message.is_streaming and relay.enabled():
        # Another worker answers: follow its mirror in Redis (studio.assistant.runner).
        key, when_idle = runner.ANSWERS.stream_key(message.pk), _when_idle(message.pk)
        source = relay.follow(
            message.pk, after=after, heartbeat=heartbeat, when_idle=when_idle, key=key
        )
    elif message is not None and relay.enabled():  # another worker answered: its mirror
        key, end = runner.ANSWERS.stream_key(message.pk), runner.ended(message)
        source = relay.replay(message.pk, after=after, heartbeat=heartbeat, end=end, key=key)
    else:  # finished (or answered by another worker without Redis): the saved answer, once
        source = streams.only(runner.ended(message) if message else Done(runner.CLEARED))
    language = translation.get_language()

    async def render(done: Done) -> str:
        return await sync_to_async(final_message)(request, done, language)

    return streams.response(threadless(streams.frames(source, render)))


def final_message(request: HttpRequest, done: Done, language: str) -> str:
    """The answer as the watcher whose request this is sees it, in their language (sync)."""
    try:
        message = AssistantMessage.objects.filter(pk=done.ids.get("message")).first()
        if message is None:
            return ""
        with translation.override(language):
            return runner.render_message(message, request)
    finally:
        release_connections()


def _reloaded(message_id: int) -> AssistantMessage | None:
    try:
        return AssistantMessage.objects.filter(pk=message_id).first()
    finally:
        release_connections()


def _when_idle(message_id: int) -> Callable[[], Awaitable[Done | None]]:
    """A relay watcher's check after each quiet spell: the end once the answer has ended, or
    once no worker answers it any more (lost with its worker) on two checks in a row (one look
    between Redis returning from an outage and the answer's heartbeat being written again must
    not end it); None while it is being answered."""
    suspect = False

    async def check() -> Done | None:
        nonlocal suspect
        message = await sync_to_async(_reloaded)(message_id)
        if message is not None and message.is_streaming:
            lost, suspect = suspect, not await runner.is_alive(message_id)
            if not (lost and suspect):
                return None
        return runner.ended(message) if message else Done(runner.CLEARED)

    return check
