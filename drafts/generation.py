"""The generation runner: streams from DeepSeek into the event log and the database.

A generation runs in an asyncio task of its own, independent of the HTTP request that started
it and of the SSE connections that watch it: closing the tab does not stop it, the Stop button
(``cancel``) does. Text is persisted at an interval (not per token) and, however the stream
ends — finished, stopped, failed, cut off, or the worker shutting down — what was written is
kept as a draft version. While it runs, a heartbeat in the shared cache tells every worker
that it is alive; a generation marked active without a heartbeat was lost (a crash) and is
settled as interrupted, with the text saved at the last persist, by ``drafts.sweeper`` (pages
only show it as being recovered: reads never write).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from studio import background
from studio.ai import generation_cost, get_client, on_request
from studio.api import responses
from studio.api.limits import BudgetExceeded, Reservation, areserve_tokens
from studio.audit.metrics import open_stream
from studio.audit.recording import arecord_generation
from studio.deepseek import ContentDelta, DeepSeekError, Finish, ReasoningDelta, Usage

from . import errors, relay
from .actions import finish_generation, mark_interrupted, save_partial_texts
from .events import GenerationLog, discard_log, get_log, open_log
from .models import Generation
from .panels import render_draft_panel

logger = logging.getLogger(__name__)

_tasks: dict[int, asyncio.Task[None]] = {}
# Set once a running generation's request has gone to DeepSeek (or it needs none, or ended).
_asked: dict[int, asyncio.Event] = {}
# Generations whose task is being cancelled by the Stop button (not by a shutdown).
_stop_requested: set[int] = set()
# Per event loop: the task relaying Stop requests from other workers (Redis only).
_cancel_listener: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
# A finished log stays a while so a watcher that reconnects late still gets the final event.
FINISHED_LOG_TTL = 60.0
HEARTBEAT_TTL = 15
ASK_WAIT = 0.1  # at most this long a view waits for its runner's request (``asked``)


def alive_key(generation_id: int) -> str:
    return f"studio:generation-alive:{generation_id}"


def launch(generation: Generation | int) -> asyncio.Task[None]:
    """Start running a committed, queued generation in the background.

    Given the instance (not just its id), the runner sends the upstream request without
    reading the database first: the first token then waits on nothing but DeepSeek.
    """
    generation_id = generation if isinstance(generation, int) else generation.pk
    open_log(generation_id)
    cache.set(alive_key(generation_id), 1, HEARTBEAT_TTL)
    _ensure_cancel_listener()
    asked = _asked[generation_id] = asyncio.Event()
    # The final panel speaks the language of whoever started the generation.
    language = translation.get_language()
    # Outside the request's context: it ends long before the generation does.
    task = background.start(
        run(generation, asked, language=language), name=f"generation-{generation_id}"
    )
    _tasks[generation_id] = task
    task.add_done_callback(lambda _: _forget(generation_id))
    return task


def _forget(generation_id: int) -> None:
    _tasks.pop(generation_id, None)
    if (event := _asked.pop(generation_id, None)) is not None:
        event.set()  # however the task ended


async def asked(generation_id: int, limit: float = ASK_WAIT) -> None:
    """Until the runner has sent its request to DeepSeek (or found a cached answer, or
    ended), at most ``limit`` seconds.

    A view that renders its answer right after ``launch()`` shares the worker's one core of
    Python with the runner still building that request, and the request goes out later for
    it (``bench/trace.py``: 4.7 ms from the client asked to the request sent, 1.5 ms without
    the render beside it). Waiting costs the view that time; the first token waits for
    DeepSeek far longer.
    """
    if (event := _asked.get(generation_id)) is not None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await event.wait()


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
    _stop_requested.add(generation_id)
    task.cancel()
    return True


async def request_stop(generation: Generation) -> None:
    """The Stop button, from any worker: here directly, elsewhere through Redis."""
    if cancel(generation.pk):
        return
    if relay.enabled() and await relay.request_cancel(generation.pk):
        return
    await sync_to_async(settle_orphan)(generation)


async def shutdown(timeout: float = 10.0) -> None:
    """Worker shutdown: end every running generation as interrupted, its text kept."""
    tasks = list(_tasks.values())
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
    await asyncio.wrap_future(background.close_connections())


def _ensure_cancel_listener() -> None:
    global _cancel_listener
    if not relay.enabled():
        return
    loop = asyncio.get_running_loop()
    if _cancel_listener is None or _cancel_listener[0] is not loop or _cancel_listener[1].done():
        # A fresh context: it lives as long as the worker, not as the request that started it.
        task = loop.create_task(
            relay.listen_for_cancels(cancel),
            name="generation-cancel-listener",
            context=contextvars.Context(),
        )
        _cancel_listener = (loop, task)


async def run(
    generation: Generation | int,
    asked: asyncio.Event | None = None,
    *,
    language: str | None = None,
) -> None:
    asked = asked or asyncio.Event()
    on_request(asked.set)  # this task's requests to DeepSeek
    if isinstance(generation, int):
        generation = await Generation.objects.aget(pk=generation)
    generation_id = generation.pk
    stream = _Stream(generation, asked)
    stream.language = language
    helpers = [asyncio.create_task(keep_alive(alive_key(generation_id), HEARTBEAT_TTL))]
    if relay.enabled():
        helpers.append(
            asyncio.create_task(
                relay.publish(
                    stream.log,
                    batch=settings.GENERATION_SSE_BATCH,
                    rate=settings.GENERATION_SSE_RATE,
                )
            )
        )
    try:
        with open_stream():
            await stream.consume()
    finally:
        asked.set()
        await stream.finish()
        await _audit(stream.ended or generation_id)
        await stream.reservation.arelease()  # the audit row counts the call from now on
        helpers[0].cancel()
        if len(helpers) > 1:
            await _settle_publisher(helpers[1])
        await cache.adelete(alive_key(generation_id))
        _stop_requested.discard(generation_id)


async def _audit(generation: Generation | int) -> None:
    """One audit row and the metrics for every AI call; never fails the generation."""
    try:
        await arecord_generation(generation)
    except Exception:
        logger.exception("Could not audit generation %s", getattr(generation, "pk", generation))


async def _settle_publisher(task: asyncio.Task[None]) -> None:
    """Let the Redis mirror write the final entry; never let it outlive the generation."""
    try:
        await asyncio.wait_for(task, timeout=5)
    except Exception:
        logger.exception("Could not relay the end of a generation to Redis")


async def keep_alive(key: str, ttl: float) -> None:
    """A heartbeat in the shared cache until cancelled: other workers see the run is alive."""
    while True:
        await cache.aset(key, 1, ttl)
        await asyncio.sleep(ttl / 3)


class _Persister:
    """One writer per worker: saves the text so far of every running generation that changed,
    in one transaction, at most GENERATION_PERSIST_INTERVAL apart (sooner when a generation
    has GENERATION_PERSIST_BYTES unsaved). A crash loses at most that much of any text."""

    def __init__(self) -> None:
        self.dirty: dict[int, _Stream] = {}
        self.wake = asyncio.Event()
        self.task = background.start(self.run(), name="partial-texts", keep_request_id=False)

    def mark(self, stream: _Stream, *, urgent: bool) -> None:
        self.dirty[stream.generation.pk] = stream
        if urgent:
            self.wake.set()

    def forget(self, generation_id: int) -> None:
        self.dirty.pop(generation_id, None)

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(settings.GENERATION_PERSIST_INTERVAL):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()
            if not self.dirty:
                continue
            batch = {pk: stream.texts() for pk, stream in self.dirty.items()}
            self.dirty.clear()
            try:
                await sync_to_async(save_partial_texts)(batch)
            except Exception:
                logger.exception("Could not save the text so far of %s generations", len(batch))


_persisters: dict[asyncio.AbstractEventLoop, _Persister] = {}


def _persister() -> _Persister:
    loop = asyncio.get_running_loop()
    persister = _persisters.get(loop)
    if persister is None or persister.task.done():
        for old in [other for other in _persisters if other.is_closed()]:
            del _persisters[old]
        persister = _persisters[loop] = _Persister()
    return persister


class _Stream:
    """The state of one running generation, from first request to the final version."""

    def __init__(self, generation: Generation, asked: asyncio.Event) -> None:
        self.generation = generation
        self.asked = asked
        self.log: GenerationLog = get_log(generation.pk) or open_log(generation.pk)
        # "Continue" generations start from the text of the one they continue.
        prefix = generation.params.get("prefix", "")
        self.content: list[str] = [prefix] if prefix else []
        if prefix:
            self.log.append("content", prefix)
        self.reasoning: list[str] = []
        self.started = time.monotonic()
        self.ttft: float | None = None
        self.usage: Usage | None = None
        self.finish_reason = ""
        self.max_tokens: int | None = None  # as sent: where a "length" finish cut the answer
        self.status = Generation.Status.DONE
        self.error_code = ""
        self.error_message = ""
        self.marked_running: asyncio.Task[int] | None = None
        self.cache_mode = "off" if prefix else generation.params.get("cache", "off")
        self.cache_key = ""
        self.cached = False
        self.ended: Generation | None = None  # as finish() saved it
        self.reservation = Reservation()  # held against the daily token budget
        self.language: str | None = None  # of the final panel (None: the default)

    async def consume(self) -> None:
        params = self.generation.params
        unsaved = 0
        # Marked running beside the upstream request, not before it: the first token never
        # waits for a database write. finish() awaits it, so the final status comes last.
        self.marked_running = asyncio.create_task(
            Generation.objects.filter(
                pk=self.generation.pk, status=Generation.Status.QUEUED
            ).aupdate(status=Generation.Status.RUNNING)
        )
        options = {
            "max_tokens": params.get("max_tokens"),
            "temperature": params.get("temperature"),
            "thinking": params.get("thinking"),
            "reasoning_effort": params.get("reasoning_effort"),
        }
        try:
            if found := await self._cached_answer(options):
                self.cached = True
                self.asked.set()
                events = responses.replay(found)
            else:
                await self._reserve(options)
                events = get_client().stream_chat(
                    messages=self.generation.messages, model=self.generation.model, **options
                )
            async for event in events:
                if added := self._apply(event):
                    # The worker's one writer saves it within the interval, or now if a lot
                    # arrived: the stream is never held up by the database.
                    unsaved += added
                    urgent = unsaved >= settings.GENERATION_PERSIST_BYTES
                    _persister().mark(self, urgent=urgent)
                    if urgent:
                        unsaved = 0
        except asyncio.CancelledError:
            # Ours to end: the Stop button, or the worker shutting down. Finish normally
            # with what we have, and say which it was.
            stopped = self.generation.pk in _stop_requested
            self.status = Generation.Status.CANCELLED if stopped else Generation.Status.INTERRUPTED
            if not stopped:
                self.error_message = errors.RESTARTED
            if task := asyncio.current_task():
                task.uncancel()
        except DeepSeekError as exc:
            self.status = Generation.Status.FAILED
            self.error_code = type(exc).__name__
            self.error_message = exc.user_message
        except BudgetExceeded as exc:  # calls started meanwhile took what was left today
            self.status = Generation.Status.FAILED
            self.error_code = "daily_budget_exceeded"
            self.error_message = exc.message
        except Exception:
            logger.exception("Generation %s failed unexpectedly", self.generation.pk)
            self.status = Generation.Status.FAILED
            self.error_code = "InternalError"
            self.error_message = errors.INTERNAL

    async def _reserve(self, options: dict[str, Any]) -> None:
        """Hold this call's tokens against its author's daily budget (BudgetExceeded when they
        do not fit); the answer may be shortened to what is left, and is then not cached."""
        asked, generation = options["max_tokens"], self.generation
        self.reservation = await areserve_tokens(
            generation.created_by_id, generation.messages, max_tokens=asked, runner=True
        )
        options["max_tokens"] = self.max_tokens = self.reservation.max_tokens
        if asked is not None and (self.reservation.max_tokens or asked) < asked:
            self.cache_mode = "off"

    async def _cached_answer(self, options: dict[str, object]) -> dict | None:
        """An identical earlier answer, when this generation may reuse one (and counted).

        Off the runners' database thread: a cache lookup never queues behind a save. A cache
        that cannot answer means asking DeepSeek, not failing."""
        if self.cache_mode == "off":
            return None
        self.cache_key = responses.cache_key(
            model=self.generation.model, messages=self.generation.messages, params=options
        )
        lookup = sync_to_async(responses.lookup, thread_sensitive=False)
        try:
            return await lookup(self.cache_key, self.cache_mode)
        except Exception:
            logger.exception("The response cache could not be read for %s", self.generation.pk)
            return None

    async def _keep_answer(self) -> None:
        """A complete, freshly generated answer goes into the cache for the next identical ask."""
        if self.cache_mode == "off" or self.cached or self.status != Generation.Status.DONE:
            return
        content, reasoning = self.texts()
        kept = responses.answer(
            content=content, reasoning=reasoning, finish_reason=self.finish_reason, usage=self.usage
        )
        try:
            await sync_to_async(responses.store, thread_sensitive=False)(
                self.cache_key, self.cache_mode, kept
            )
        except Exception:
            logger.exception("Could not keep generation %s in the cache", self.generation.pk)

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

    def texts(self) -> tuple[str, str]:
        return "".join(self.content), "".join(self.reasoning)

    async def finish(self) -> None:
        _persister().forget(self.generation.pk)
        if self.marked_running is not None:
            await asyncio.gather(self.marked_running, return_exceptions=True)
        fields: dict[str, object] = {
            "finish_reason": self.finish_reason,
            "max_tokens": self.max_tokens,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "duration_ms": round((time.monotonic() - self.started) * 1000),
            "ttft_ms": round(self.ttft * 1000) if self.ttft is not None else None,
        }
        if self.cached:  # nothing was asked of DeepSeek: nothing billed, nothing budgeted
            fields |= {"cached": True, "cost": 0, "prompt_tokens": 0, "completion_tokens": 0}
        elif self.usage is not None:
            cost = generation_cost(self.generation.model, self.usage, self.generation.created)
            fields |= {
                "cost": cost,
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cache_hit_tokens": self.usage.prompt_cache_hit_tokens,
                "cache_miss_tokens": self.usage.prompt_cache_miss_tokens,
                "reasoning_tokens": self.usage.reasoning_tokens,
            }
        await self._keep_answer()
        content, reasoning = self.texts()
        try:
            # One trip to the runners' database thread: the panel follows the save at once,
            # not after every other runner's queued work.
            self.ended, html = await sync_to_async(_end)(
                self.generation,
                language=self.language,
                status=self.status,
                text=content,
                reasoning=reasoning,
                fields=fields,
            )
        except Exception:
            logger.exception("Could not record the end of generation %s", self.generation.pk)
            html = ""
        self.log.finish(html)
        asyncio.get_running_loop().call_later(FINISHED_LOG_TTL, discard_log, self.generation.pk)


def _end(generation: Generation, *, language: str | None, **outcome: Any) -> tuple[Generation, str]:
    """Record how the generation ended (``finish_generation``), then render the final panel
    every watcher swaps in, in ``language`` (sync)."""
    ended = finish_generation(generation_id=generation.pk, **outcome)
    with translation.override(language):
        return ended, render_draft_panel(generation.draft_id)


def live_snapshot(generation_id: int) -> tuple[str, str, int] | None:
    """Text and reasoning so far and the sequence number they end at, for a live page load."""
    log = get_log(generation_id)
    if log is None or log.final_html is not None:
        return None
    items = list(log.items)
    content = "".join(text for kind, text in items if kind == "content")
    reasoning = "".join(text for kind, text in items if kind == "reasoning")
    return content, reasoning, len(items)


def is_orphan(generation: Generation) -> bool:
    """Marked active, but no process runs it: no local task and no heartbeat anywhere."""
    return (
        generation.is_active
        and not is_live(generation.pk)
        and cache.get(alive_key(generation.pk)) is None
    )


def settle_orphan(generation: Generation) -> Generation:
    """A generation lost to a crash or restart ends as interrupted, its saved text kept (sync)."""
    if is_orphan(generation):
        return mark_interrupted(generation=generation)
    return generation


def active_generation(draft_id: int) -> Generation | None:
    """The draft's whole-draft generation still marked in progress, if any (read only: one
    whose runner is gone, ``is_orphan``, is settled by ``drafts.sweeper``, not here)."""
    running = Generation.objects.filter(draft_id=draft_id, status__in=Generation.ACTIVE)
    # Suggestions (sections, rewrites) stream into their own place, not the whole panel.
    return running.whole_draft().first()
