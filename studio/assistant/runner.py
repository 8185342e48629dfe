"""Streams an assistant answer from DeepSeek into an event log that the panel's SSE follows.

The same shape as the draft runner (drafts/generation.py), much smaller: the POST that asks
starts the task, and the SSE GET only watches (``drafts.events.follow``), so a reconnect never
asks twice. The answer is saved, audited and counted once, when the stream ends; its final
event carries the answer rendered through the sanitizing Markdown renderer.

With Redis configured (``drafts.relay.enabled()``) the log is also mirrored into a Redis
stream, as generations are, so that a browser whose SSE lands on another worker follows the
answer live; a heartbeat in the shared cache tells those watchers that the answering worker
is still alive (``is_alive``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone

from drafts import relay
from drafts.events import GenerationLog
from drafts.generation import keep_alive
from studio import background
from studio.ai import generation_cost, get_client, route_for
from studio.audit.metrics import observe_ai_call
from studio.audit.recording import record_ai_call
from studio.deepseek import ContentDelta, DeepSeekError, Usage
from studio.guardrails.budgets import BudgetExceeded, Reservation, areserve_tokens

from .actions import failure_text
from .models import AssistantMessage

logger = logging.getLogger(__name__)

MESSAGE = "assistant/panel.html#assistant-message"
FINISHED_LOG_TTL = 60.0  # a watcher that reconnects late still gets the final event
HEARTBEAT_TTL = 15

_logs: dict[int, GenerationLog] = {}
_tasks: dict[int, asyncio.Task[None]] = {}


def get_log(message_id: int) -> GenerationLog | None:
    return _logs.get(message_id)


def task_for(message_id: int) -> asyncio.Task[None] | None:
    return _tasks.get(message_id)


def launch(
    message_id: int,
    *,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    user_id: int | None = None,
):
    """Start answering in the background (the request's id stays on its log lines); the call
    counts against ``user_id``'s daily token budget."""
    log = _logs[message_id] = GenerationLog(message_id)
    run = mirrored if relay.enabled() else answer
    task = background.start(
        run(message_id, messages, origin, log, user_id), name=f"assistant-{message_id}"
    )
    _tasks[message_id] = task
    task.add_done_callback(lambda _: _tasks.pop(message_id, None))
    return task


def alive_key(message_id: int) -> str:
    return f"studio:assistant-alive:{message_id}"


async def is_alive(message_id: int) -> bool:
    """Whether some worker is still answering (its heartbeat is in the shared cache)."""
    return await cache.aget(alive_key(message_id)) is not None


async def mirrored(
    message_id: int,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    log: GenerationLog,
    user_id: int | None = None,
) -> None:
    """``answer``, with its log mirrored through the Redis relay and a heartbeat kept."""
    key = relay.assistant_key(message_id)
    batch, rate = settings.GENERATION_SSE_BATCH, settings.GENERATION_SSE_RATE
    publisher = asyncio.create_task(relay.publish(log, batch=batch, rate=rate, key=key))
    heartbeat = asyncio.create_task(keep_alive(alive_key(message_id), HEARTBEAT_TTL))
    try:
        await answer(message_id, messages, origin, log, user_id)
    finally:
        heartbeat.cancel()
        try:  # let the mirror write the final entry; never let it outlive the answer
            await asyncio.wait_for(publisher, timeout=5)
        except Exception:
            logger.exception("Could not relay the end of assistant answer %s", message_id)
        await cache.adelete(alive_key(message_id))


async def answer(
    message_id: int,
    messages: list[dict[str, Any]],
    origin: dict[str, Any],
    log: GenerationLog,
    user_id: int | None = None,
) -> None:
    params = route_for("chat").params()
    model = params.pop("model")
    started, ttft, parts, usage = time.monotonic(), None, [], None
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
                log.append("content", event.text)
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
        call = {"model": model, "messages": messages, "usage": usage, "origin": origin}
        call |= {"latency": time.monotonic() - started, "ttft": ttft, "error": error}
        html = await sync_to_async(finish)(message_id, "".join(parts), status, shown, call)
        await reservation.arelease()  # the audit row counts the call from now on
        log.finish(html)
        loop = asyncio.get_running_loop()
        loop.call_later(FINISHED_LOG_TTL, _logs.pop, message_id, None)


def finish(message_id: int, text: str, status: str, shown: str, call: dict[str, Any]) -> str:
    """Save the answer, write its audit row and metrics; the final HTML (sanitized)."""
    message = AssistantMessage.objects.select_related("draft").filter(pk=message_id).first()
    usage: Usage | None = call["usage"]
    cost = generation_cost(call["model"], usage, timezone.now()) if usage else None
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
    if message is None:  # the conversation was cleared meanwhile
        return ""
    message.content = text if status == "ok" else "\n\n".join(filter(None, [text, shown]))
    failed = AssistantMessage.Status.FAILED
    message.status = AssistantMessage.Status.DONE if status == "ok" else failed
    message.save(update_fields=["content", "status"])
    return render_message(message)


def render_message(message: AssistantMessage) -> str:
    """One message's HTML; model output goes through the sanitizing Markdown renderer."""
    return render_to_string(MESSAGE, {"message": message})
