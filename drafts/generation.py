"""The generation runner: streams from DeepSeek into the event log and the database.

A generation runs in an asyncio task of its own, independent of the HTTP request that started
it and of the SSE connections that watch it: closing the tab does not stop it, the Stop button
(``cancel``) does. Text is persisted at an interval (not per token) and, however the stream
ends — finished, stopped, failed, cut off — what was written is kept as a draft version.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from studio.ai import get_client
from studio.deepseek import ContentDelta, DeepSeekError, Finish, ReasoningDelta, Usage

from .actions import finish_generation, mark_interrupted, save_partial_text
from .events import discard_log, get_log, open_log
from .models import Generation
from .panels import render_draft_panel

logger = logging.getLogger(__name__)

_tasks: dict[int, asyncio.Task[None]] = {}
# A finished log stays a while so a watcher that reconnects late still gets the final event.
FINISHED_LOG_TTL = 60.0


def launch(generation_id: int) -> asyncio.Task[None]:
    """Start running a committed, queued generation in the background."""
    open_log(generation_id)
    # A fresh context: the request's contextvars include its thread-sensitive executor,
    # which shuts down when the response is sent, long before the generation ends.
    task = asyncio.create_task(
        run(generation_id), name=f"generation-{generation_id}", context=contextvars.Context()
    )
    _tasks[generation_id] = task
    task.add_done_callback(lambda _: _tasks.pop(generation_id, None))
    return task


def is_live(generation_id: int) -> bool:
    """Whether this process is running the generation."""
    return generation_id in _tasks


def task_for(generation_id: int) -> asyncio.Task[None] | None:
    return _tasks.get(generation_id)


def cancel(generation_id: int) -> bool:
    """Stop a running generation; its text so far is kept. False if it is not running here."""
    task = _tasks.get(generation_id)
    if task is None:
        return False
    task.cancel()
    return True


async def run(generation_id: int) -> None:
    generation = await Generation.objects.aget(pk=generation_id)
    stream = _Stream(generation)
    try:
        await stream.consume()
    finally:
        await stream.finish()


class _Stream:
    """The state of one running generation, from first request to the final version."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.log = get_log(generation.pk) or open_log(generation.pk)
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.started = time.monotonic()
        self.ttft: float | None = None
        self.usage: Usage | None = None
        self.finish_reason = ""
        self.status = Generation.Status.DONE
        self.error_code = ""
        self.error_message = ""

    async def consume(self) -> None:
        params = self.generation.params
        persisted_at, unsaved = self.started, 0
        await Generation.objects.filter(pk=self.generation.pk).aupdate(
            status=Generation.Status.RUNNING
        )
        try:
            events = get_client().stream_chat(
                messages=self.generation.messages,
                model=self.generation.model,
                max_tokens=params.get("max_tokens"),
                temperature=params.get("temperature"),
                thinking=params.get("thinking"),
            )
            async for event in events:
                unsaved += self._apply(event)
                now = time.monotonic()
                interval_passed = now - persisted_at >= settings.GENERATION_PERSIST_INTERVAL
                if unsaved and (unsaved >= settings.GENERATION_PERSIST_BYTES or interval_passed):
                    await sync_to_async(save_partial_text)(
                        generation_id=self.generation.pk,
                        text="".join(self.content),
                        reasoning="".join(self.reasoning),
                    )
                    persisted_at, unsaved = now, 0
        except asyncio.CancelledError:
            # The Stop button: finish normally with what we have (the task is ours to end).
            self.status = Generation.Status.CANCELLED
            if task := asyncio.current_task():
                task.uncancel()
        except DeepSeekError as exc:
            self.status = Generation.Status.FAILED
            self.error_code = type(exc).__name__
            self.error_message = exc.user_message
        except Exception:
            logger.exception("Generation %s failed unexpectedly", self.generation.pk)
            self.status = Generation.Status.FAILED
            self.error_code = "InternalError"
            self.error_message = "Something went wrong in the studio; the text so far is kept."

    def _apply(self, event: object) -> int:
        """Record one event; returns how many characters of text it added."""
        match event:
            case ContentDelta(text=text) | ReasoningDelta(text=text):
                if self.ttft is None:
                    self.ttft = time.monotonic() - self.started
                is_content = isinstance(event, ContentDelta)
                (self.content if is_content else self.reasoning).append(text)
                self.log.append("content" if is_content else "reasoning", text)
                return len(text)
            case Usage():
                self.usage = event
            case Finish(reason=reason):
                self.finish_reason = reason
        return 0

    async def finish(self) -> None:
        fields: dict[str, object] = {
            "finish_reason": self.finish_reason,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "duration_ms": round((time.monotonic() - self.started) * 1000),
            "ttft_ms": round(self.ttft * 1000) if self.ttft is not None else None,
        }
        if self.usage is not None:
            fields |= {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cache_hit_tokens": self.usage.prompt_cache_hit_tokens,
                "cache_miss_tokens": self.usage.prompt_cache_miss_tokens,
                "reasoning_tokens": self.usage.reasoning_tokens,
            }
        try:
            await sync_to_async(finish_generation)(
                generation_id=self.generation.pk,
                status=self.status,
                text="".join(self.content),
                reasoning="".join(self.reasoning),
                fields=fields,
            )
            html = await sync_to_async(render_draft_panel)(self.generation.draft_id)
        except Exception:
            logger.exception("Could not record the end of generation %s", self.generation.pk)
            html = ""
        self.log.finish(html)
        asyncio.get_running_loop().call_later(FINISHED_LOG_TTL, discard_log, self.generation.pk)


def live_snapshot(generation_id: int) -> tuple[str, str, int] | None:
    """Text and reasoning so far and the sequence number they end at, for a live page load."""
    log = get_log(generation_id)
    if log is None or log.final_html is not None:
        return None
    items = list(log.items)
    content = "".join(text for kind, text in items if kind == "content")
    reasoning = "".join(text for kind, text in items if kind == "reasoning")
    return content, reasoning, len(items)


def settle_orphan(generation: Generation) -> Generation:
    """A generation marked active that no task here runs was cut off by a restart.

    (Sync; one worker process per studio: runners and watchers share the process.)
    """
    if generation.is_active and not is_live(generation.pk):
        return mark_interrupted(generation=generation)
    return generation


def active_generation(draft_id: int) -> Generation | None:
    """The draft's generation running in this process, settling any orphan on the way."""
    generation = Generation.objects.filter(draft_id=draft_id, status__in=Generation.ACTIVE).first()
    if generation is None:
        return None
    generation = settle_orphan(generation)
    return generation if generation.is_active else None
