"""Retries and a shared circuit breaker around :class:`~studio.deepseek.client.DeepSeekClient`.

Retries: a failed request is sent again only while nothing has reached the caller. Once the
first reasoning or answer text has been yielded, a failure ends the stream with its error:
retrying then would duplicate or splice text. Only errors marked ``retryable`` are retried,
at most ``RetryPolicy.attempts`` times and within ``RetryPolicy.budget`` seconds, waiting an
exponential backoff with jitter, or longer when the server sent ``Retry-After``.

Circuit breaker, one per upstream (base URL): closed until ``threshold`` consecutive
upstream failures (5xx, timeouts, dropped connections, unreadable streams: errors marked
``upstream_failure``), then open: every request fails at once with :class:`CircuitOpen` for
``cooldown`` seconds. Then half-open: one trial request goes through; its success closes the
breaker, its failure opens it again. Its state lives in a :class:`StateStore` shared by every
worker (the Django adapter backs it with Django's cache, Redis in production), so one worker's
failures protect them all. If the store itself fails, the breaker lets requests through: it
must never be what takes the studio down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Unpack

from .client import ChatOptions, ChatParams, DeepSeekClient
from .errors import BadRequest, CircuitOpen, DeepSeekError, UnknownModel
from .events import Balance, ChatResult, ContentDelta, Event, ReasoningDelta
from .pricing import check_context

logger = logging.getLogger(__name__)

BreakerState = Literal["closed", "open", "half_open"]


class StateStore(Protocol):
    """A small shared key-value store with expiry (Django's cache fits; so does Redis)."""

    async def get(self, key: str) -> Any:
        """The value, or ``None`` when missing or expired."""
        ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def incr(self, key: str, ttl: float) -> int:
        """Atomically add one (a missing key starts at 0 and expires after ``ttl``)."""
        ...

    async def delete(self, key: str) -> None: ...


class MemoryStore:
    """A :class:`StateStore` for one process (tests, the CLI); ``clock`` is injectable."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, tuple[Any, float]] = {}

    def _live(self, key: str) -> tuple[Any, float] | None:
        item = self._data.get(key)
        if item is not None and item[1] <= self._clock():
            del self._data[key]
            return None
        return item

    async def get(self, key: str) -> Any:
        item = self._live(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: Any, ttl: float) -> None:
        self._data[key] = (value, self._clock() + ttl)

    async def incr(self, key: str, ttl: float) -> int:
        item = self._live(key)
        value, expires = (0, self._clock() + ttl) if item is None else item
        self._data[key] = (value + 1, expires)
        return value + 1

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """The breaker as the provider-status page shows it."""

    upstream: str
    state: BreakerState
    failures: int
    retry_in: float | None  # seconds until a trial request is allowed (open only)


@dataclass(slots=True)
class Ticket:
    """Permission for one request; ``probe`` marks the half-open trial request."""

    probe: bool = False
    settled: bool = False


class CircuitBreaker:
    """A circuit breaker whose state lives in a shared :class:`StateStore`.

    ``clock`` must be wall-clock time (``time.time``) in production, because the open-until
    timestamp is read by other processes.

    ``fresh_for`` (seconds, 0: off) spares the store a round trip per request while all is
    well: a closed breaker read from the store is trusted that long (another worker's trip
    reaches this one at most that much later; this one's own failures and trips at once),
    and a success resets the shared count of consecutive failures at most once in that time
    (at once after this process saw a failure). Failures of other workers interleaved with
    this one's successes within ``fresh_for`` may then count as consecutive.
    """

    def __init__(
        self,
        store: StateStore,
        upstream: str,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        window: float = 300.0,
        probe_timeout: float = 180.0,
        clock: Callable[[], float] = time.time,
        key_prefix: str = "deepseek:breaker",
        fresh_for: float = 0.0,
    ) -> None:
        self.store = store
        self.upstream = upstream
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.window = window  # consecutive failures older than this are forgotten
        self.probe_timeout = probe_timeout  # a trial request that never reports is given up
        self.clock = clock
        base = f"{key_prefix}:{upstream}"
        self._failures_key = f"{base}:failures"
        self._open_key = f"{base}:open_until"
        self._probe_key = f"{base}:probe"
        self.fresh_for = max(0.0, fresh_for)
        self._closed_until = -math.inf  # a closed breaker read from the store: trusted till
        self._reset_until = -math.inf  # the failure count reset by this process: trusted till

    async def _safely(self, operation: Awaitable[Any], default: Any = None) -> Any:
        try:
            return await operation
        except Exception:  # the store is down: fail open, never take the studio with it
            logger.warning("Circuit breaker store failed for %s", self.upstream, exc_info=True)
            return default

    async def acquire(self) -> Ticket:
        """Allow a request, or raise :class:`CircuitOpen` at once."""
        now = self.clock()
        if now < self._closed_until:
            return Ticket()
        open_until = await self._safely(self.store.get(self._open_key))
        if open_until is None:
            self._closed_until = now + self.fresh_for
            return Ticket()
        remaining = float(open_until) - self.clock()
        if remaining > 0:
            raise CircuitOpen(self.upstream, remaining)
        # Half-open: the first caller to take the probe slot tries; the others wait for it.
        taken = await self._safely(self.store.incr(self._probe_key, self.probe_timeout), 1)
        if taken == 1:
            return Ticket(probe=True)
        raise CircuitOpen(self.upstream, self.cooldown)

    async def success(self, ticket: Ticket | None = None) -> None:
        """The upstream answered: forget failures; a successful trial closes the breaker."""
        if ticket is not None:
            if ticket.settled:
                return
            ticket.settled = True
        probe = ticket is not None and ticket.probe
        now = self.clock()
        if probe or now >= self._reset_until:
            await self._safely(self.store.delete(self._failures_key))
            self._reset_until = now + self.fresh_for
        if probe:
            await self._safely(self.store.delete(self._open_key))
            await self._safely(self.store.delete(self._probe_key))
            logger.info("Circuit for %s closed after a successful trial", self.upstream)

    async def failure(self, ticket: Ticket | None = None) -> None:
        """The upstream failed: count it; open at the threshold or when the trial failed."""
        if ticket is not None:
            ticket.settled = True
        self._closed_until = self._reset_until = -math.inf  # read the store from now on
        failures = await self._safely(self.store.incr(self._failures_key, self.window), 0)
        if (ticket is not None and ticket.probe) or failures >= self.threshold:
            await self.trip()

    async def trip(self) -> None:
        """Open the breaker now, for ``cooldown`` seconds."""
        self._closed_until = -math.inf
        # Keep the open-until mark well past the cooldown so the half-open state is visible.
        ttl = self.cooldown + self.probe_timeout + self.window
        await self._safely(self.store.set(self._open_key, self.clock() + self.cooldown, ttl))
        await self._safely(self.store.delete(self._probe_key))
        logger.warning("Circuit for %s open for %s s", self.upstream, self.cooldown)

    async def release(self, ticket: Ticket) -> None:
        """Give back an unsettled trial slot (the caller went away before an answer)."""
        if ticket.probe and not ticket.settled:
            ticket.settled = True
            await self._safely(self.store.delete(self._probe_key))

    async def snapshot(self) -> BreakerSnapshot:
        open_until = await self._safely(self.store.get(self._open_key))
        failures = int(await self._safely(self.store.get(self._failures_key)) or 0)
        if open_until is None:
            return BreakerSnapshot(self.upstream, "closed", failures, None)
        remaining = float(open_until) - self.clock()
        if remaining > 0:
            return BreakerSnapshot(self.upstream, "open", failures, remaining)
        return BreakerSnapshot(self.upstream, "half_open", failures, None)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry before the first token.

    ``attempts`` counts the first try. ``budget`` bounds the whole effort: no retry starts
    later than ``budget`` seconds after the first attempt began. Backoff doubles from
    ``base_delay`` up to ``max_delay``, with "equal jitter" (half fixed, half random) so that
    workers that failed together do not retry together; a ``Retry-After`` from the server is
    a floor.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    budget: float = 30.0

    def delay(self, retry: int, error: DeepSeekError, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        backoff = ceiling / 2 + rng.uniform(0, ceiling / 2)
        return max(backoff, error.retry_after or 0.0)


NO_RETRY = RetryPolicy(attempts=1)


class ResilientClient:
    """The DeepSeek client with pre-flight checks, retries and a circuit breaker.

    Same call signatures as :class:`DeepSeekClient`. Before anything is sent it validates the
    parameters (JSON mode needs "json" in a message) and, when ``context_tokens`` is set,
    refuses prompts that cannot fit (:class:`ContextTooLong`). A 400 "Model Not Exist" becomes
    :class:`UnknownModel`, which names the models the key can use.
    """

    def __init__(
        self,
        client: DeepSeekClient,
        *,
        breaker: CircuitBreaker | None = None,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen dataclass, safe to share
        context_tokens: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.breaker = breaker
        self.retry = retry
        self.context_tokens = context_tokens
        self._sleep = sleep
        self._rng = rng or random.Random()

    @property
    def timeouts(self) -> Any:
        return self.client.timeouts

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> ResilientClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _preflight(self, messages: list[dict[str, Any]], model: str, params: ChatParams) -> None:
        params.to_body(messages)  # raises on invalid parameters before any request
        if self.context_tokens:
            check_context(
                messages,
                model=model,
                max_tokens=params.max_tokens,
                context_tokens=self.context_tokens,
            )

    async def _acquire(self) -> Ticket | None:
        return await self.breaker.acquire() if self.breaker else None

    async def _record(self, ticket: Ticket | None, error: DeepSeekError | None) -> None:
        if self.breaker is None:
            return
        if error is not None and error.upstream_failure:
            await self.breaker.failure(ticket)
        else:  # an answer, even a 4xx, proves the upstream is up
            await self.breaker.success(ticket)

    async def _give_up_or_wait(
        self, error: DeepSeekError, attempt: int, started: float, model: str
    ) -> DeepSeekError | None:
        """Return the error to raise, or wait and return None to try again."""
        if isinstance(error, BadRequest) and "model not exist" in error.message.lower():
            return await self._unknown_model(model, error)
        if not error.retryable or attempt >= self.retry.attempts:
            return error
        delay = self.retry.delay(attempt, error, self._rng)
        elapsed = asyncio.get_running_loop().time() - started
        if elapsed + delay > self.retry.budget:
            return error
        logger.info("DeepSeek attempt %s failed (%r); retrying in %.2f s", attempt, error, delay)
        await self._sleep(delay)
        return None

    async def _unknown_model(self, model: str, error: BadRequest) -> DeepSeekError:
        try:
            available = await self.client.list_models()
        except DeepSeekError:
            return error  # its own advice already points at DEEPSEEK_MODEL
        return UnknownModel(model, available, status=error.status)

    async def stream_chat(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        **options: Unpack[ChatOptions],
    ) -> AsyncIterator[Event]:
        """Stream like :meth:`DeepSeekClient.stream_chat`, with retries before the first text.

        Text is never repeated: once a ``ReasoningDelta`` or ``ContentDelta`` has been
        yielded, any error is raised as it is. Stopping iteration closes the upstream
        response at once (and gives back a half-open trial slot).
        """
        params = ChatParams(**options)
        self._preflight(messages, model, params)
        started = asyncio.get_running_loop().time()
        attempt = 0
        while True:
            attempt += 1
            ticket = await self._acquire()
            delivered = False
            try:
                stream = self.client.stream_with(messages=messages, model=model, params=params)
                async with contextlib.aclosing(stream) as events:
                    async for event in events:
                        first = not delivered and isinstance(event, ContentDelta | ReasoningDelta)
                        delivered = delivered or first
                        yield event
                        if first:
                            # The upstream answered: recorded once the caller has the first
                            # text, after one turn of the loop (what the text woke, a
                            # watcher's first frame, goes out before this bookkeeping), and
                            # before the stream reads on, so before any failure of it.
                            await asyncio.sleep(0)
                            await self._record(ticket, None)
                await self._record(ticket, None)
                return
            except DeepSeekError as error:
                if error.upstream_failure or not delivered:
                    await self._record(ticket, error)
                if delivered:
                    raise
                final = await self._give_up_or_wait(error, attempt, started, model)
                if final is error:
                    raise
                if final is not None:
                    raise final from error
            finally:
                if delivered:  # closed at its first text: it answered all the same
                    await self._record(ticket, None)  # nothing more once recorded
                if ticket is not None and self.breaker is not None:
                    await self.breaker.release(ticket)

    async def chat(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        **options: Unpack[ChatOptions],
    ) -> ChatResult:
        """A non-streaming chat completion with the same checks, retries and breaker."""
        params = ChatParams(**options)
        self._preflight(messages, model, params)
        started = asyncio.get_running_loop().time()
        attempt = 0
        while True:
            attempt += 1
            ticket = await self._acquire()
            try:
                result = await self.client.chat_with(messages=messages, model=model, params=params)
                await self._record(ticket, None)
                return result
            except DeepSeekError as error:
                await self._record(ticket, error)
                final = await self._give_up_or_wait(error, attempt, started, model)
                if final is error:
                    raise
                if final is not None:
                    raise final from error
            finally:
                if ticket is not None and self.breaker is not None:
                    await self.breaker.release(ticket)

    async def list_models(self) -> list[str]:
        """``GET /models``, straight through (the status page must see the truth)."""
        return await self.client.list_models()

    async def balance(self) -> Balance:
        """``GET /user/balance``, straight through."""
        return await self.client.balance()
