"""The Django side of the DeepSeek client: builds it from settings, one per event loop.

The client package (studio/deepseek/) knows nothing of Django; this adapter is the only place
that reads DEEPSEEK_* settings. One pooled httpx.AsyncClient serves every generation of the
process; it is bound to the event loop that created it, so a new loop (a test) gets its own.
The circuit breaker keeps its state in Django's cache (Redis in production), so every worker
sees the same breaker.

What the rest of the studio calls:

- ``get_client()``: the resilient client (``stream_chat``/``chat``/``list_models``/``balance``).
- ``route_for(purpose, model=, thinking=, temperature=)``: model, thinking mode, temperature.
- ``check_prompt(messages, model=, max_tokens=)``: the pre-flight size check.
- ``generation_cost(model, usage, at)``: USD cost of a finished call.
- ``provider_status()``: reachability, models, balance, breaker (status page, health check).
- ``on_request(callback)``: call ``callback()`` when this task's next request goes to DeepSeek.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

from studio import cache_pool, degraded
from studio.deepseek import (
    BreakerSnapshot,
    CircuitBreaker,
    DeepSeekClient,
    ProviderStatus,
    ResilientClient,
    RetryPolicy,
    Route,
    Router,
    Timeouts,
    Usage,
    check_context,
    check_provider,
    cost_usd,
    default_routes,
)
from studio.deepseek.pricing import DEFAULT_PRICES, ModelPrice, UnknownPrice, price_table

logger = logging.getLogger(__name__)

# Generation.cost has six decimal places.
COST_QUANTUM = Decimal("0.000001")

_current: tuple[asyncio.AbstractEventLoop, ResilientClient] | None = None


class DjangoCacheStore:
    """The circuit breaker's :class:`~studio.deepseek.resilience.StateStore` on Django's cache.

    Calls to Redis run in a worker thread: a Redis round trip must not block the event loop,
    and the thread-sensitive executor that ``cache.aget`` would use is shared with the ORM.
    A cache in this process's memory is asked at once.
    """

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    async def get(self, key: str) -> Any:
        return await self._run(lambda cache: cache.get(key))

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._run(lambda cache: cache.set(key, value, ttl))

    async def incr(self, key: str, ttl: float) -> int:
        return await self._run(lambda cache: cache_pool.count(cache, key, timeout=ttl))

    async def delete(self, key: str) -> None:
        await self._run(lambda cache: cache.delete(key))

    async def _run[T](self, op: Callable[[BaseCache], T]) -> T:
        """``op`` on the cache; while the shared (default) cache is down, on this worker's
        memory: the breaker then counts failures per worker (studio.degraded).

        A cache in this process's memory (no Redis configured) is asked on the loop: it never
        waits on the network, and a trip to a thread (which waits for the GIL while a view's
        thread renders) was most of the time between a generation asking and its request
        going out."""
        cache = caches[self.alias]
        if self.alias == "default":
            ask = functools.partial(degraded.run, op, what="breaker")
        else:
            ask = functools.partial(op, cache)
        if isinstance(cache, LocMemCache):
            return ask()
        return await asyncio.to_thread(ask)


# Seconds a closed breaker read from the shared cache is trusted: one Redis round trip (and a
# thread trip) fewer before most requests, and a success resets the failure count at most
# this often; another worker's trip reaches this one at most this much later (decision 45).
BREAKER_FRESH_FOR = 1.0


def build_breaker() -> CircuitBreaker:
    return CircuitBreaker(
        DjangoCacheStore(),
        settings.DEEPSEEK_BASE_URL.rstrip("/"),
        threshold=settings.DEEPSEEK_BREAKER_THRESHOLD,
        cooldown=settings.DEEPSEEK_BREAKER_COOLDOWN,
        # A trial request reports back at its first token at the latest.
        probe_timeout=settings.DEEPSEEK_CONNECT_TIMEOUT + settings.DEEPSEEK_FIRST_TOKEN_TIMEOUT,
        fresh_for=BREAKER_FRESH_FOR,
    )


_request_callback: contextvars.ContextVar[Callable[[], object] | None] = contextvars.ContextVar(
    "deepseek_request_callback", default=None
)


def on_request(callback: Callable[[], object]) -> None:
    """Call ``callback()`` whenever the current task hands a request to the DeepSeek client's
    connection pool (a retry calls it again). Task-local: set it in the task that streams."""
    _request_callback.set(callback)


async def _requesting(request: httpx.Request) -> None:
    if (callback := _request_callback.get()) is not None:
        callback()


def build_client() -> ResilientClient:
    client = DeepSeekClient(
        base_url=settings.DEEPSEEK_BASE_URL,
        api_key=settings.DEEPSEEK_API_KEY,
        timeouts=Timeouts(
            connect=settings.DEEPSEEK_CONNECT_TIMEOUT,
            first_token=settings.DEEPSEEK_FIRST_TOKEN_TIMEOUT,
            idle=settings.DEEPSEEK_IDLE_TIMEOUT,
            total=settings.DEEPSEEK_TOTAL_TIMEOUT,
        ),
        max_connections=settings.DEEPSEEK_MAX_CONNECTIONS,
        on_request=_requesting,
    )
    return ResilientClient(
        client,
        breaker=build_breaker(),
        retry=RetryPolicy(
            attempts=settings.DEEPSEEK_RETRY_ATTEMPTS, budget=settings.DEEPSEEK_RETRY_BUDGET
        ),
        context_tokens=settings.DEEPSEEK_CONTEXT_TOKENS,
    )


def get_client() -> ResilientClient:
    """The process's pooled client for the running event loop."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, build_client())
    return _current[1]


async def close_client() -> None:
    """Close the pooled client (ASGI lifespan shutdown; a task's own loop at its end).

    A client made on another event loop is let go instead: its connections belong to that
    loop (most likely closed since: a finished task's or test's), which alone can close them;
    they are closed when collected, as a client ``get_client`` replaced for a new loop."""
    global _current
    if _current is not None:
        loop, client = _current
        _current = None
        if loop is asyncio.get_running_loop():
            await client.aclose()


def router() -> Router:
    """The task-type routes from settings (built per call, so settings overrides apply)."""
    return Router(
        default_routes(
            fast_model=settings.DEEPSEEK_MODEL,
            reasoning_model=settings.DEEPSEEK_REASONING_MODEL,
            reasoning_effort=settings.DEEPSEEK_REASONING_EFFORT or None,
        )
    )


def route_for(
    purpose: str, *, model: str = "", thinking: bool | None = None, temperature: float | None = None
) -> Route:
    """Model and mode for a template purpose (``copy``, ``docs``…) or task type (``reasoning``).

    ``model``: the template's pinned model ("" for the route's). ``thinking``: True/False to
    force, None to follow the route. ``temperature``: the template's own (ignored when
    thinking). ``route.params()`` gives the ``stream_chat`` keyword arguments.
    """
    return router().route(purpose, model=model, thinking=thinking, temperature=temperature)


def check_prompt(messages: list[dict[str, Any]], *, model: str, max_tokens: int | None) -> int:
    """Refuse a prompt that cannot fit the model's context before anything is sent.

    Raises :class:`~studio.deepseek.ContextTooLong` (its ``user_message`` says by how much);
    returns the estimated tokens otherwise.
    """
    return check_context(
        messages,
        model=model,
        max_tokens=max_tokens,
        context_tokens=settings.DEEPSEEK_CONTEXT_TOKENS,
    )


def prices() -> dict[str, ModelPrice]:
    return price_table({**DEFAULT_PRICES, **settings.DEEPSEEK_PRICES})


def generation_cost(model: str, usage: Usage, at: datetime) -> Decimal | None:
    """USD cost of a call made at ``at``, rounded to Generation.cost's 6 places.

    ``None`` (and a warning in the log) when the price table does not know the model.
    """
    try:
        cost = cost_usd(model, usage, at, prices())
    except UnknownPrice:
        logger.warning("No DeepSeek price for model %r; add it to DEEPSEEK_PRICES", model)
        return None
    return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


async def breaker_state() -> BreakerSnapshot:
    """The shared circuit breaker's state, without calling DeepSeek."""
    return await build_breaker().snapshot()


async def provider_status(timeout: float = 10.0) -> ProviderStatus:
    """Reachability, models, balance and breaker state; never raises for DeepSeek trouble.

    For the provider-status page and a health check (``status.as_dict()`` is JSON-ready).
    """
    return await check_provider(get_client(), timeout=timeout)
