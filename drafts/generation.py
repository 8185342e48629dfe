"""The generation runner: streams from DeepSeek into the event log and the database.

A generation runs in an asyncio task of its own, independent of the HTTP request that started
it and of the SSE connections that watch it: closing the tab does not stop it, the Stop button
(``cancel``) does. Text is persisted at an interval (not per token) and, however the stream
ends — finished, stopped, failed, cut off, or the worker shutting down — what was written is
kept as a draft version. While it runs, a heartbeat in the shared cache tells every worker
that it is alive; a generation marked active without a heartbeat was lost (a crash) and is
settled as interrupted, with the text saved at the last persist, by ``drafts.sweeper`` (pages
only show it as being recovered: reads never write). A worker streams at most
GENERATION_MAX_RUNNING at once (``SLOTS``): one launched beyond that waits in order, still
queued, alive (its heartbeat beats) and stoppable, its place in line in its log (``Queued``).

The engine (event log, registry, heartbeat, Redis relay, the writer of partial texts) is
``studio.streams``; this module says what a generation does. Its log ends with a ``Done``
(status and ids): the SSE view renders the final panel for each watcher (drafts.views.generations).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from studio import background, streams
from studio.ai import generation_cost, get_client, on_request
from studio.audit.metrics import observe_admission_wait, open_stream, set_queue_depth
from studio.deepseek import ContentDelta, DeepSeekError, Finish, ReasoningDelta, Usage
from studio.guardrails import response_cache
from studio.guardrails.budgets import BudgetExceeded, Reservation, areserve_tokens
from studio.streams import (
    Admission,
    Delta,
    Done,
    EventLog,
    GrowingText,
    Queued,
    Reasoning,
    Snapshot,
    relay,
)
from studio.streams.writer import PartialWriters

from . import citations, errors
from .actions import finish_generation, mark_interrupted, mark_running, save_partial_texts
from .audit import arecord_generation
from .markdown_stream import BlockSplitter
from .models import Generation

logger = logging.getLogger(__name__)

# The generations this process runs, their event logs and heartbeats (studio.streams).
GENERATIONS = streams.Registry("generation")
# At most GENERATION_MAX_RUNNING generations stream at once in this worker; the others wait
# in order, their place in line in their log (docs/decisions/generation-admission.md).
SLOTS = Admission(lambda: settings.GENERATION_MAX_RUNNING, on_depth=set_queue_depth)
# Set once a running generation's request has gone to DeepSeek (or it needs none, or ended).
_asked: dict[int, asyncio.Event] = {}


def _save_texts(texts: dict[int, tuple[str, str]]) -> None:
    background.healing(save_partial_texts)(texts)  # the module's, looked up at each save


# One writer per worker saves the text so far of every running generation.
_writers = PartialWriters(
    _save_texts, partial(background.start, name="partial-texts", keep_request_id=False)
)
ASK_WAIT = 0.1  # at most this long a view waits for its runner's request (``asked``)
EARLY_WAIT = 0.05  # at most this long the generate action waits for an early request to leave
STOP_RETRY_PAUSE = 0.2  # between Stops sent again while no worker listens

HEARTBEAT_TTL = GENERATIONS.heartbeat_ttl
alive_key = GENERATIONS.alive_key
get_log = GENERATIONS.get_log
is_live = GENERATIONS.is_live
task_for = GENERATIONS.task_for
cancel = GENERATIONS.cancel


def launch(generation: Generation | int) -> asyncio.Task[None]:
    """Start running a committed, queued generation in the background.

    Given the instance (not just its id), the runner sends the upstream request without
    reading the database first: the first token then waits on nothing but DeepSeek. An
    instance handed an :class:`EarlyRequest` (``hand_over_request``) streams that one.
    """
    generation_id = generation if isinstance(generation, int) else generation.pk
    early = None if isinstance(generation, int) else generation.__dict__.pop(_EARLY, None)
    GENERATIONS.open_log(generation_id)
    GENERATIONS.mark_alive(generation_id)
    GENERATIONS.listen_for_stops()
    asked = _asked[generation_id] = asyncio.Event()
    if early is not None:
        early.when_sent(asked.set)
    # Outside the request's context: it ends long before the generation does.
    coro = run(generation, asked, early=early)
    task = background.start(coro, name=f"generation-{generation_id}")
    GENERATIONS.track(generation_id, task)
    task.add_done_callback(lambda _: _forget(generation_id))
    return task


_HELD = "_held_tokens"  # a launched instance's budget reservation (``hand_over``)


def hand_over(generation: Generation, reservation: Reservation) -> None:
    """The tokens the generate action already holds against the budget for this generation
    (``drafts.generate``), carried by the instance ``launch`` gets: its runner asks DeepSeek
    without reserving again, and releases them once the audit row is written."""
    generation.__dict__[_HELD] = reservation


_EARLY = "_early_request"  # a launched instance's request already sent (``hand_over_request``)


class EarlyRequest:
    """A generation's request to DeepSeek, sent before its rows are committed.

    The generate action sends it once the checks and the budget reservation are done, then
    stores the rows (docs/decisions/0027-the-request-leaves-before-the-rows-commit.md): the
    first token no longer waits for those writes. Made on any thread (:func:`ask_early`);
    everything else runs on the event loop. The runner that launches with it streams it
    (:meth:`events`); one that never does (the rows were not stored) discards it, and its
    slot goes back.

    Only for a generation that needs no cache lookup and whose tokens the action holds: the
    request is exactly the one the runner would send (:func:`request_options`).
    """

    def __init__(self, *, model: str, messages: list[dict[str, Any]], options: dict) -> None:
        self.model, self.messages, self.options = model, messages, options
        self.started = time.monotonic()
        self.admitted = False  # it took a slot of SLOTS (else the runner waits for one)
        self.discarded = False
        self._first: asyncio.Task[object] | None = None
        self._events: Any = None
        self._sent = False
        self._on_sent: list[Callable[[], object]] = []
        self._gone = threading.Event()  # sent, or it will not be: the action may go on

    def start(self) -> None:
        """On the loop: send it now, if this worker has a slot free at once."""
        if self.discarded or not SLOTS.enter():
            self._gone.set()
            return  # the runner waits in line as any other, and asks then
        self.admitted = True
        self.started = time.monotonic()
        self._first = background.start(self._first_event(), name="early-request")

    async def _first_event(self) -> object:
        on_request(self._sending)
        try:
            self._events = get_client().stream_chat(
                messages=self.messages, model=self.model, **self.options
            )
            return await anext(self._events)
        finally:
            self._gone.set()  # failed (or stopped) before it was sent, if not sent already

    def _sending(self) -> None:
        self._sent = True
        self._gone.set()
        for callback in self._on_sent:
            callback()

    def wait_sent(self) -> None:
        """From the action's thread: until the request has left, at most EARLY_WAIT seconds.

        The action's thread holds Python's lock while it stores the rows, and the event loop
        would wait up to the switch interval (5 ms) for it: the request would leave after
        the rows after all. Waiting here hands the loop the lock for the fraction of a
        millisecond the request takes to go out, then the rows follow."""
        self._gone.wait(EARLY_WAIT)

    def when_sent(self, callback: Callable[[], object]) -> None:
        """``callback()`` once the request has gone out (at once if it has, or if there is
        no request to wait for)."""
        if self._sent or not self.admitted:
            callback()
        else:
            self._on_sent.append(callback)

    async def events(self) -> AsyncIterator[object]:
        """Its events, as ``stream_chat`` yields them, from the first."""
        assert self._first is not None
        try:
            try:
                first = await self._first
            except StopAsyncIteration:
                return
            yield first
            async for event in self._events:
                yield event
        finally:
            await self._close()

    def discard(self) -> None:
        """On the loop: its generation will not run (its rows were not stored)."""
        if self.discarded:
            return
        self.discarded = True
        if self.admitted:
            SLOTS.leave()
            background.start(self._close(), name="early-request-discarded")

    async def _close(self) -> None:
        if (first := self._first) is not None:
            first.cancel()  # nothing when it is done
            await asyncio.wait({first})
            if not first.cancelled():
                first.exception()  # retrieved: the runner saw it, or nobody needs it
        if self._events is not None:
            with contextlib.suppress(Exception):
                await self._events.aclose()


def request_options(params: dict[str, Any], max_tokens: int | None) -> dict[str, Any]:
    """The options a generation's request is sent with: its parameters, and ``max_tokens``
    as its budget reservation allows (the runner's ``_stream``, :class:`EarlyRequest`)."""
    return {
        "max_tokens": max_tokens,
        "temperature": params.get("temperature"),
        "thinking": params.get("thinking"),
        "reasoning_effort": params.get("reasoning_effort"),
    }


def ask_early(
    loop: asyncio.AbstractEventLoop, *, model: str, messages: list[dict[str, Any]], options: dict
) -> EarlyRequest:
    """From any thread: an :class:`EarlyRequest` that starts on ``loop`` as soon as it can."""
    early = EarlyRequest(model=model, messages=messages, options=options)
    loop.call_soon_threadsafe(early.start)
    return early


def hand_over_request(generation: Generation, early: EarlyRequest) -> None:
    """The request the generate action already sent for this generation: the instance
    ``launch`` gets carries it (``launch`` takes it; see :func:`drop_unclaimed`)."""
    generation.__dict__[_EARLY] = early


def drop_unclaimed(generation: Generation) -> None:
    """After ``launch``: an early request it did not take (a launch that does not run the
    generation) is discarded."""
    if (early := generation.__dict__.pop(_EARLY, None)) is not None:
        early.discard()


def _forget(generation_id: int) -> None:
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


async def request_stop(generation: Generation) -> bool:
    """The Stop button, from any worker: here directly, elsewhere through Redis. False when
    it may run in another worker and Redis, which would carry the Stop there, is away, or
    no worker heard it (a runner's Stop listener is reconnecting after an outage)."""
    try:
        if await GENERATIONS.request_stop(generation.pk):
            return True
        if await sync_to_async(is_orphan)(generation):
            await sync_to_async(settle_orphan)(generation)
            return True
        # Alive in another worker, whose Stop listener did not hear it: it is subscribing
        # again after a Redis outage (within REDIS_BACKOFF_CAP). Ask again meanwhile.
        deadline = time.monotonic() + max(3 * settings.REDIS_BACKOFF_CAP, 1.0)
        while time.monotonic() < deadline:
            await asyncio.sleep(STOP_RETRY_PAUSE)
            if await GENERATIONS.request_stop(generation.pk):
                return True
    except relay.UNAVAILABLE as error:
        logger.warning("Could not ask for generation %s to stop (%r)", generation.pk, error)
        return False
    logger.warning("No worker heard the Stop for generation %s", generation.pk)
    return False


async def stop_generations(generations: Iterable[Generation]) -> bool:
    """Stop each (a campaign's Stop all, the drafts moved to the trash) through the one Stop,
    ``request_stop``, all at once. Each ends as stopped, its text kept, and its watchers get
    its end. False when one could not be asked."""
    stopped = await asyncio.gather(*(request_stop(g) for g in generations))
    return all(stopped)


async def shutdown(timeout: float = 10.0) -> None:
    """Worker shutdown: end every running generation as interrupted, its text kept (and
    every other stream this worker runs: an assistant answer is saved as it stands)."""
    await streams.shutdown(timeout)
    await asyncio.wrap_future(background.close_connections())


async def run(
    generation: Generation | int,
    asked: asyncio.Event | None = None,
    *,
    early: EarlyRequest | None = None,
) -> None:
    asked = asked or asyncio.Event()
    on_request(asked.set)  # this task's requests to DeepSeek
    if isinstance(generation, int):
        generation = await background.aheal(Generation.objects.get)(pk=generation)
    generation_id = generation.pk
    stream = _Stream(generation, asked, early)
    mirror = GENERATIONS.mirror(stream.log)
    try:
        # launch() marked it alive: its heartbeat renews the key with the worker's next beat.
        async with GENERATIONS.heartbeat(generation_id, marked=True):
            try:
                await stream.consume()
            finally:
                asked.set()
                await stream.finish()
                await _audit(stream.ended or generation_id)
                await stream.reservation.arelease()  # the audit row counts the call from now on
                await GENERATIONS.settle_mirror(mirror)
    finally:
        GENERATIONS.forget_stop(generation_id)


async def _audit(generation: Generation | int) -> None:
    """One audit row and the metrics for every AI call; never fails the generation."""
    try:
        await arecord_generation(generation)
    except Exception:
        logger.exception("Could not audit generation %s", getattr(generation, "pk", generation))


# A text that stops here has ended a sentence (Latin or CJK): what follows is a new paragraph.
_SENTENCE_ENDS = tuple(".!?…。！？")


def joint(prefix: str, text: str) -> str:
    """What goes between a continued text and the first text of its continuation: a blank
    line after a finished sentence, unless either side already has the whitespace; nothing
    mid-sentence (the model goes on with the word, or with its own space)."""
    if not prefix or prefix[-1].isspace() or text[0].isspace():
        return ""
    return "\n\n" if prefix.endswith(_SENTENCE_ENDS) else ""


class _Stream:
    """The state of one running generation, from first request to the final version."""

    def __init__(
        self, generation: Generation, asked: asyncio.Event, early: EarlyRequest | None = None
    ) -> None:
        self.generation = generation
        self.asked = asked
        # Its request, already sent with a slot of its own (else none: asked as any other).
        self.early = early if early is not None and early.admitted else None
        if early is not None and self.early is None:
            early.discard()
        self.log: EventLog = get_log(generation.pk) or GENERATIONS.open_log(generation.pk)
        # "Continue" generations start from the text of the one they continue.
        self.prefix = prefix = generation.prefix
        self.content = GrowingText(prefix)
        self.joining = bool(prefix)  # the continuation's first text joins the prefix
        # The answer's finished Markdown blocks, rendered once here for every watcher.
        self.blocks = BlockSplitter(citations.for_generation(generation))
        if prefix:
            self._add_content(prefix)
        self.reasoning = GrowingText()
        # Its timings (TTFT, duration) count from its request: sent early, or from now on.
        self.started = self.early.started if self.early is not None else time.monotonic()
        self.ttft: float | None = None
        self.usage: Usage | None = None
        self.finish_reason = ""
        self.max_tokens: int | None = None  # as sent: where a "length" finish cut the answer
        self.status = Generation.Status.DONE
        self.error_code = ""
        self.error_message = ""
        self.marked_running: asyncio.Task[bool] | None = None
        self.cache_mode = "off" if prefix else generation.cache_mode
        self.cache_key = ""
        self.cached = False
        self.ended: Generation | None = None  # as finish() saved it
        self.waited: float | None = None  # seconds in line for a slot, once it has one
        # Held against the daily token budget: by the generate action, or reserved here.
        self.handed_over: Reservation | None = generation.__dict__.pop(_HELD, None)
        self.reservation = self.handed_over or Reservation()

    async def consume(self) -> None:
        """Stream the answer once this worker has a slot for it (``SLOTS``)."""
        try:
            await self._admitted()
        except asyncio.CancelledError:  # stopped (or shut down) while it waited: nothing asked
            self._cancelled()
            return
        try:
            with open_stream():
                await self._stream()
        finally:
            SLOTS.leave()

    async def _admitted(self) -> None:
        """A slot: at once under the limit (a counter check, nothing awaited); else in line,
        its place in line in the log for every watcher, the row still queued. The run's
        heartbeat beats meanwhile: a queued generation is alive, not lost. An early request
        took its slot when it was sent."""
        if self.early is not None or SLOTS.enter():
            self.waited = 0.0
            return
        self.asked.set()  # no request goes out for a while: a view need not wait for it
        self.waited = await SLOTS.wait(lambda ahead: self.log.add(Queued(ahead)))
        self.log.add(Queued(0))
        self.started = time.monotonic()  # its timings (TTFT, duration) count from its turn

    def _cancelled(self) -> None:
        """Ours to end: the Stop button, or the worker shutting down. It finishes normally
        with what it has, and says which it was."""
        stopped = GENERATIONS.was_stopped(self.generation.pk)
        self.status = Generation.Status.CANCELLED if stopped else Generation.Status.INTERRUPTED
        if not stopped:
            self.error_message = errors.RESTARTED
        if task := asyncio.current_task():
            task.uncancel()

    async def _stream(self) -> None:
        params = self.generation.params
        unsaved = 0
        # Marked running beside the upstream request, not before it: the first token never
        # waits for a database write. finish() awaits it, so the final status comes last.
        self.marked_running = asyncio.create_task(
            background.aheal(mark_running)(generation_id=self.generation.pk)
        )
        options = request_options(params, params.get("max_tokens"))
        try:
            if self.early is not None:  # sent with the options the action's reservation gave
                await self._reserve(options)
                events = self.early.events()
            elif found := await self._cached_answer(options):
                self.cached = True
                self.asked.set()
                events = response_cache.replay(found)
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
                    _writers.current().mark(self.generation.pk, self, urgent=urgent)
                    if urgent:
                        unsaved = 0
        except asyncio.CancelledError:
            self._cancelled()
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
        do not fit), unless the generate action already does; the answer may be shortened to
        what is left, and is then not cached."""
        asked, generation = options["max_tokens"], self.generation
        if self.handed_over is None:
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
        self.cache_key = response_cache.cache_key(
            model=self.generation.model, messages=self.generation.messages, params=options
        )
        lookup = sync_to_async(response_cache.lookup, thread_sensitive=False)
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
        kept = response_cache.answer(
            content=content, reasoning=reasoning, finish_reason=self.finish_reason, usage=self.usage
        )
        try:
            await sync_to_async(response_cache.store, thread_sensitive=False)(
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
                if is_content and self.joining and text:
                    text = joint(self.prefix, text) + text
                    self.joining = False
                if is_content:
                    self.content.append(text)
                    self._add_content(text)
                else:
                    self.reasoning.append(text)
                    self.log.add(Reasoning(text))
                return len(text)
            case Usage():
                self.usage = event
            case Finish(reason=reason):
                self.finish_reason = reason
        return 0

    def _add_content(self, text: str) -> None:
        """Answer text to the log, then any Markdown block it finished (after the text it
        stands for, so a watcher always has that text before the block)."""
        self.log.add(Delta(text))
        for block in self.blocks.feed(text):
            self.log.add(block)

    def texts(self) -> tuple[str, str]:
        return str(self.content), str(self.reasoning)

    async def finish(self) -> None:
        for block in self.blocks.close():  # the last block ends with the answer
            self.log.add(block)
        _writers.current().forget(self.generation.pk)
        if self.waited is not None:  # it had its slot (not stopped while it waited)
            observe_admission_wait(self.waited)
        if self.marked_running is not None:
            (marked,) = await asyncio.gather(self.marked_running, return_exceptions=True)
            if isinstance(marked, Exception):  # the final status below is written all the same
                logger.error(
                    "Could not mark generation %s running", self.generation.pk, exc_info=marked
                )
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
        generation = self.generation
        ids = {"generation": generation.pk, "draft": generation.draft_id}
        try:
            self.ended = await background.aheal(finish_generation)(
                generation_id=generation.pk,
                status=self.status,
                text=content,
                reasoning=reasoning,
                fields=fields,
            )
            done = Done(self.ended.status, ids)
        except Exception:
            logger.exception("Could not record the end of generation %s", generation.pk)
            done = Done(UNRECORDED, ids)
        # Ids and a status only: each watcher's view renders the end for its own viewer.
        self.log.finish(done)
        GENERATIONS.discard_later(generation.pk)


UNRECORDED = "unrecorded"  # the end could not be saved: watchers get an empty final event


def live_snapshot(generation_id: int) -> Snapshot:
    """The generation so far (finished blocks, open text, reasoning) and the sequence number
    it ends at, for a live page load; empty (from the start) when this process does not run
    it, or no more."""
    log = get_log(generation_id)
    return (log.snapshot() if log is not None else None) or Snapshot("", "", 0)


def live_blocks(so_far: Snapshot) -> SafeString:
    """A live page's finished blocks: each rendered by ``render_markdown`` (sanitized) in this
    process's runner, from its own log."""
    return mark_safe(so_far.blocks)  # noqa: S308 — sanitized HTML only (markdown_stream)


def is_orphan(generation: Generation) -> bool:
    """Marked active, but no process runs it: no local task and no heartbeat anywhere.

    A heartbeat that cannot be read (the cache is away) is not a missing one: never lost."""
    return generation.is_active and not GENERATIONS.is_alive(generation.pk)


def settle_orphan(generation: Generation) -> Generation:
    """A generation lost to a crash or restart ends as interrupted, its text kept (sync):
    the saved text, or the longer one its Redis mirror holds (what it streamed after its
    last save, up to its last batch)."""
    if not is_orphan(generation):
        return generation
    text, reasoning = recovered_texts(generation)
    return mark_interrupted(generation=generation, text=text, reasoning=reasoning)


def recovered_texts(generation: Generation) -> tuple[str, str]:
    """The text and reasoning to keep of a lost generation: each the saved one, unless its
    Redis stream holds more of it (a longer text that goes on from the saved one)."""
    saved = generation.text, generation.reasoning
    if not relay.enabled():
        return saved
    mirrored = relay.read_texts(GENERATIONS.stream_key(generation.pk))
    if mirrored is None:
        return saved
    return tuple(  # type: ignore[return-value]
        more if len(more) > len(kept) and more.startswith(kept) else kept
        for kept, more in zip(saved, mirrored, strict=True)
    )


def active_generation(draft_id: int) -> Generation | None:
    """The draft's whole-draft generation still marked in progress, if any (read only: one
    whose runner is gone, ``is_orphan``, is settled by ``drafts.sweeper``, not here)."""
    running = Generation.objects.filter(draft_id=draft_id, status__in=Generation.ACTIVE)
    # Suggestions (sections, rewrites) stream into their own place, not the whole panel.
    return running.whole_draft().first()
