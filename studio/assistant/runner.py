"""Streams an assistant answer from DeepSeek into an event log that the panel's SSE follows.

The same shape as the draft runner (drafts/generation.py), much smaller, on the same engine
(``studio.streams``): the POST that asks starts the task, and the SSE GET only watches
(``streams.follow``), so a reconnect never asks twice. The answer is saved, audited and
counted once, when the stream ends; its log ends with a ``Done`` naming the message, and
the SSE view renders the message for its own viewer (their language).

With Redis configured the log is also mirrored into a Redis stream, as generations are, so
that a browser whose SSE lands on another worker follows the answer live; a heartbeat in the
shared cache tells those watchers that the answering worker is still alive (``is_alive``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from drafts.markdown_stream import BlockSplitter
from studio import background, streams
from studio.ai import generation_cost, get_client, route_for
from studio.audit.metrics import observe_ai_call
from studio.audit.recording import record_ai_call
from studio.deepseek import ContentDelta, DeepSeekError, Usage
from studio.guardrails.budgets import BudgetExceeded, Reservation, areserve_tokens
from studio.streams import Delta, Done, EventLog, GrowingText

from .actions import failure_text
from .models import AssistantMessage

logger = logging.getLogger(__name__)

MESSAGE = "assistant/panel.html#assistant-message"
# The answers this process streams, their logs and heartbeats (studio.streams).
ANSWERS = streams.Registry("assistant")
CLEARED = "cleared"  # the conversation was cleared meanwhile: nothing to show

get_log = ANSWERS.get_log
task_for = ANSWERS.task_for
alive_key = ANSWERS.alive_key
is_alive = ANSWERS.ais_alive  # whether some worker is still answering


def launch(
    message_id: int,
    *,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    user_id: int | None = None,
):
    """Start answering in the background (the request's id stays on its log lines); the call
    counts against ``user_id``'s daily token budget."""
    log = ANSWERS.open_log(message_id)
    task = background.start(
        mirrored(message_id, messages, origin, log, user_id), name=f"assistant-{message_id}"
    )
    return ANSWERS.track(message_id, task)


async def mirrored(
    message_id: int,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    log: EventLog,
    user_id: int | None = None,
) -> None:
    """``answer``, with a heartbeat kept and its log mirrored to Redis (when configured)."""
    mirror = ANSWERS.mirror(log)
    async with ANSWERS.heartbeat(message_id):
        try:
            await answer(message_id, messages, origin, log, user_id)
        finally:
            await ANSWERS.settle_mirror(mirror)


async def answer(
    message_id: int,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    log: EventLog,
    user_id: int | None = None,
) -> None:
    params = route_for("chat").params()
    model = params.pop("model")
    started, ttft, parts, usage = time.monotonic(), None, GrowingText(), None
    blocks = BlockSplitter()  # the answer's finished Markdown blocks, as the draft panel's
    status, error, shown = "ok", "", ""
    reservation = Reservation()
    try:
        if user_id is not None:
            reservation = await areserve_tokens(user_id, messages, max_tokens=None, runner=True)
            params["max_tokens"] = reservation.max_tokens
        async for event in get_client().stream_chat(messages=messages, model=model, **params):
            if isinstance(event, ContentDelta):
                ttft = ttft if ttft is not None else time.monotonic() - started
                parts.append(event.text)
                log.add(Delta(event.text))
                for block in blocks.feed(event.text):
                    log.add(block)
            elif isinstance(event, Usage):
                usage = event
    except DeepSeekError as exc:
        status, error, shown = "failed", type(exc).__name__, failure_text(exc.user_message)
    except BudgetExceeded as exc:  # the view's check passed; calls started meanwhile took it
        status, error, shown = "failed", "daily_budget_exceeded", failure_text(exc.message)
    except asyncio.CancelledError:
        status, error = "cancelled", "cancelled"
        raise
    finally:
        for block in blocks.close():
            log.add(block)
        call = {"model": model, "messages": messages, "usage": usage, "origin": origin}
        call |= {"latency": time.monotonic() - started, "ttft": ttft, "error": error}
        save = background.aheal(finish)  # once more on a new connection after a blip
        saved = await save(message_id, str(parts), status, shown, call)
        await reservation.arelease()  # the audit row counts the call from now on
        log.finish(ended(saved) if saved else Done(CLEARED, {"message": message_id}))
        ANSWERS.discard_later(message_id)


def finish(
    message_id: int, text: str, status: str, shown: str, call: dict[str, Any]
) -> AssistantMessage | None:
    """Save the answer, write its audit row and metrics; the message (None once cleared).

    The message and the audit row are written in one transaction: run again after a lost
    connection, it writes both or neither (the metrics count it once it is saved)."""
    usage: Usage | None = call["usage"]
    cost = generation_cost(call["model"], usage, timezone.now()) if usage else None
    with transaction.atomic():
        message = _save(message_id, text, status, shown, call, cost)
    observe_ai_call(
        model=call["model"],
        status=status,
        latency_s=call["latency"],
        ttft_s=call["ttft"],
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cost=cost,
        error_kind=call["error"],
    )
    return message


def _save(
    message_id: int, text: str, status: str, shown: str, call: dict[str, Any], cost: Any
) -> AssistantMessage | None:
    message = AssistantMessage.objects.select_related("draft").filter(pk=message_id).first()
    usage: Usage | None = call["usage"]
    record_ai_call(
        status=status,
        user_id=message.user_id if message else None,
        workspace_id=message.draft.workspace_id if message else None,
        prompt=call["messages"],
        response=text,
        model=call["model"],
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cost=cost,
        latency_ms=round(call["latency"] * 1000),
        ttft_ms=round(call["ttft"] * 1000) if call["ttft"] is not None else None,
        error_code=call["error"],
        **call["origin"],
    )
    if message is None:  # the conversation was cleared meanwhile
        return None
    message.content = text if status == "ok" else "\n\n".join(filter(None, [text, shown]))
    failed = AssistantMessage.Status.FAILED
    message.status = AssistantMessage.Status.DONE if status == "ok" else failed
    message.save(update_fields=["content", "status"])
    return message


def ended(message: AssistantMessage) -> Done:
    """The end of a message's stream: its status and id (the view renders it per viewer)."""
    return Done(message.status, {"message": message.pk})


def render_message(message: AssistantMessage, request: HttpRequest | None = None) -> str:
    """One message's HTML, for the viewer whose request it is (their language); model
    output goes through the sanitizing Markdown renderer."""
    return render_to_string(MESSAGE, {"message": message}, request=request)
