"""Daily token budgets.

The daily token budget is a cap, not a check after the fact: every AI call first reserves its
estimate (prompt + ``max_tokens``) in a per-user, per-day counter in the shared cache
(``reserve_tokens``), and the call is refused when the tokens already used today (the audit
log) plus everything reserved by calls still in flight would pass the budget. A call that does
not fit but still has room for ``MIN_OUTPUT_TOKENS`` of answer is shortened instead (its
``max_tokens`` lowered). The reservation is released once the call's audit row, with its real
or estimated usage, is written. A refused call is written to the audit log as ``over_budget``.

While the shared cache is unreachable (``studio.degraded``) the reservations are counted in
each worker's own memory: the audit log, in the database, still holds everything used, so a
budget is never passed by more than what other workers have in flight at that moment.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from studio import cache_pool, degraded
from studio.audit.models import AuditLog, start_of_day
from studio.deepseek.pricing import estimate_prompt_tokens
from studio.tuning import Prepared

from .refusals import audit_refusal


class BudgetExceeded(Exception):
    """The user's daily token budget is used up until ``retry_after`` seconds from now."""

    def __init__(self, *, used: int, budget: int, retry_after: int) -> None:
        self.used, self.budget, self.retry_after = used, budget, retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return _(
            "You have used your daily budget of %(budget)s tokens (%(used)s used). "
            "It resets at midnight (%(tz)s)."
        ) % {"budget": f"{self.budget:,}", "used": f"{self.used:,}", "tz": settings.TIME_ZONE}


def seconds_until_budget_reset() -> int:
    """Seconds until daily budgets start again (the studio's midnight)."""
    reset = start_of_day() + timedelta(days=1)
    return max(1, int((reset - timezone.localtime()).total_seconds()))


def tokens_used_today(user) -> int:
    """Tokens the user's AI calls used since midnight: the usage every page shows (``user``: a
    user or a user id). Read by every call before it is sent, with SQL compiled once a day
    (studio.tuning 7; decision 45): the same total as ``AuditLog...today().usage()``."""
    user_id = user if isinstance(user, int) else user.pk
    row = _used_since(start_of_day()).first(user_id)
    return (row and row["tokens"]) or 0


@functools.lru_cache(maxsize=4)
def _used_since(moment: datetime) -> Prepared:
    """The billed usage of one user since ``moment``, compiled once per moment (a day)."""
    return Prepared(
        lambda user_id: AuditLog.objects.filter(user_id=user_id).since(moment).usage_rows()
    )


def check_token_budget(
    user,
    *,
    request: HttpRequest | None = None,
    workspace_id: int | None = None,
    origin: Mapping[str, Any] | None = None,
) -> None:
    """Raise BudgetExceeded when the user has used AI_DAILY_TOKEN_BUDGET tokens today (0: none),
    counting what their calls in flight hold. A quick check before work starts; the cap
    itself is ``reserve_tokens``, right before each call.

    The refusal is audited (``over_budget``), with the request's origin when given (or
    ``origin``: the audit row's origin fields, ``studio.audit.origin.Origin.as_dict()``).
    """
    budget = settings.AI_DAILY_TOKEN_BUDGET
    if not budget:
        return
    used = tokens_used_today(user)
    key = _reserved_key(user.pk)
    reserved = degraded.run(lambda cache: cache.get(key), what="budget")
    if used + (reserved or 0) >= budget:
        raise _refusal(user, used, request=request, workspace_id=workspace_id, origin=origin)


def _refusal(
    user,
    used: int,
    *,
    request: HttpRequest | None = None,
    workspace_id: int | None = None,
    origin: Mapping[str, Any] | None = None,
) -> BudgetExceeded:
    """Audit an ``over_budget`` refusal; the BudgetExceeded to raise."""
    if isinstance(user, int):  # a background job knows only the id
        user = get_user_model().objects.filter(pk=user).first()
    retry_after = seconds_until_budget_reset()
    audit_refusal(
        request,
        status=AuditLog.Status.OVER_BUDGET,
        code="daily_budget_exceeded",
        user=user,
        workspace_id=workspace_id,
        **(origin or {}),
    )
    return BudgetExceeded(used=used, budget=settings.AI_DAILY_TOKEN_BUDGET, retry_after=retry_after)


async def acheck_token_budget(user, **kwargs: Any) -> None:
    """``check_token_budget`` for async code (the same keyword arguments)."""
    await sync_to_async(check_token_budget)(user, **kwargs)


# A call the budget can only fit by cutting its answer shorter than this is refused instead.
MIN_OUTPUT_TOKENS = 256
RESERVATION_TTL = 2 * 24 * 3600  # the key names its day; this only clears it away afterwards


def _give_back(cache, key: str, tokens: int) -> None:
    # A counter that expired or was evicted has nothing to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key, tokens)


def _add(cache, key: str, tokens: int) -> tuple[int, bool]:
    """Raise the counter ``key`` by ``tokens``: its new value, and whether it is local."""
    return cache_pool.count(cache, key, tokens, timeout=RESERVATION_TTL), cache is degraded.LOCAL


def _reserved_key(user_id: int) -> str:
    return f"studio:budget-reserved:{user_id}:{start_of_day().date().isoformat()}"


@dataclass
class Reservation:
    """Tokens held against a user's daily budget while one AI call is in flight.

    ``max_tokens`` is what the call may ask for (lowered when the budget is nearly spent).
    ``release()`` once the call's audit row (real or estimated usage) is written: from then
    on the audit log counts it. A context manager (sync or async) releases on exit.
    """

    key: str = ""
    tokens: int = 0
    max_tokens: int | None = None
    local: bool = False  # held in this worker's memory (the shared cache was down)

    def release(self) -> None:
        if self.tokens:
            key, tokens = self.key, self.tokens
            self.tokens = 0
            if self.local:
                _give_back(degraded.LOCAL, key, tokens)
            else:  # an outage since: that counter is out of reach, and expires with its day
                degraded.fail_open(lambda c: _give_back(c, key, tokens), None, what="budget")

    async def arelease(self) -> None:
        await sync_to_async(self.release, thread_sensitive=False)()

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    async def __aenter__(self) -> Reservation:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.arelease()


def reserve_tokens(
    user,
    messages: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int | None,
    request: HttpRequest | None = None,
    workspace_id: int | None = None,
    origin: Mapping[str, Any] | None = None,
) -> Reservation:
    """Hold the call's estimate (prompt + ``max_tokens``) against the user's budget, or raise.

    ``user``: a user or a user id. No ``max_tokens`` reserves (and sends) DEEPSEEK_MAX_TOKENS,
    since an unbounded answer could pass any cap. When used + reserved + estimate would pass
    AI_DAILY_TOKEN_BUDGET the call is shortened to fit, or refused (BudgetExceeded, audited
    ``over_budget``, with ``request``'s origin or ``origin``) when fewer than MIN_OUTPUT_TOKENS
    of answer would be left. The counter is raised first and the audit log read after, so
    concurrent calls never overbook.
    """
    budget = settings.AI_DAILY_TOKEN_BUDGET
    if not budget:
        return Reservation(max_tokens=max_tokens)
    user_id = user if isinstance(user, int) else user.pk
    # More than the whole budget would be shortened anyway (and stays in a 64-bit counter).
    output = min(max_tokens or settings.DEEPSEEK_MAX_TOKENS, budget)
    prompt = estimate_prompt_tokens(messages)
    key, estimate = _reserved_key(user_id), prompt + output
    reserved, local = degraded.run(lambda cache: _add(cache, key, estimate), what="budget")
    used = tokens_used_today(user_id)
    over = used + reserved - budget
    if over <= 0:
        return Reservation(key=key, tokens=estimate, max_tokens=output, local=local)
    if output - over >= min(MIN_OUTPUT_TOKENS, output):
        Reservation(key=key, tokens=over, local=local).release()
        held = estimate - over
        return Reservation(key=key, tokens=held, max_tokens=output - over, local=local)
    Reservation(key=key, tokens=estimate, local=local).release()
    raise _refusal(user, used, request=request, workspace_id=workspace_id, origin=origin)


async def areserve_tokens(
    user, messages: Sequence[Mapping[str, Any]], *, runner: bool = False, **kwargs: Any
) -> Reservation:
    """``reserve_tokens`` for async code (the same arguments).

    A request's call (``runner=False``) runs on the request's own thread, with the connection
    it already holds: a second connection, while the request keeps its first, would let
    enough concurrent requests hold every pool connection and wait for one more forever.

    A runner's call (``runner=True``) runs on a thread of its own, with a connection it gives
    back at once: the request to DeepSeek then never queues behind the runners' database
    thread (busy saving other generations). Runners hold no pool connection while waiting,
    and requests do not wait on runners while holding theirs (a view waits on ``asked`` for
    at most 0.1 s; the API's ``"wait": true`` releases its connections first).
    """
    if runner:
        reserve = sync_to_async(_reserve_and_close, thread_sensitive=False)
        return await reserve(user, messages, **kwargs)
    return await sync_to_async(reserve_tokens)(user, messages, **kwargs)


def _reserve_and_close(user, messages: Sequence[Mapping[str, Any]], **kwargs: Any) -> Reservation:
    try:
        return reserve_tokens(user, messages, **kwargs)
    finally:
        connections.close_all()  # this pool thread's, so none is left open behind it
