"""The daily token budget is a cap: each AI call reserves its estimate before it is made."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connections

from studio.audit.models import AuditLog
from studio.deepseek.pricing import estimate_prompt_tokens
from studio.guardrails.budgets import BudgetExceeded, _reserved_key, reserve_tokens

MESSAGES = [{"role": "user", "content": "Write a tagline for a lamp."}]
PROMPT = estimate_prompt_tokens(MESSAGES)


def _spend(user, tokens):
    AuditLog.objects.create(user=user, status="ok", total_tokens=tokens)


def test_a_call_larger_than_what_is_left_is_shortened_to_fit(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 3000

    held = reserve_tokens(user, MESSAGES, max_tokens=3500)

    assert held.max_tokens == 3000 - PROMPT
    assert held.tokens == 3000


def test_a_call_with_no_room_left_for_an_answer_is_refused_and_audited(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 3000
    _spend(user, 2900)

    with pytest.raises(BudgetExceeded):
        reserve_tokens(user, MESSAGES, max_tokens=1000)

    assert AuditLog.objects.filter(user=user, status="over_budget").count() == 1
    assert cache.get(_reserved_key(user.pk)) == 0  # the refused call holds nothing


def test_calls_in_flight_count_against_the_budget(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 3000
    reserve_tokens(user, MESSAGES, max_tokens=2900 - PROMPT)

    with pytest.raises(BudgetExceeded):
        reserve_tokens(user, MESSAGES, max_tokens=500)


def test_releasing_gives_the_reservation_back(user, settings):
    """Once the call's audit row is written, the audit log counts it, not the reservation."""
    settings.AI_DAILY_TOKEN_BUDGET = 3000
    with reserve_tokens(user, MESSAGES, max_tokens=2000):
        pass
    _spend(user, 500)  # what the call really used

    held = reserve_tokens(user, MESSAGES, max_tokens=2400)

    assert held.max_tokens == 2400  # the unused 1,500 tokens came back
    assert cache.get(_reserved_key(user.pk)) == PROMPT + 2400


async def test_an_async_reservation_is_released_on_exit(user, settings):
    from studio.guardrails.budgets import areserve_tokens

    settings.AI_DAILY_TOKEN_BUDGET = 3000
    async with await areserve_tokens(user, MESSAGES, max_tokens=100) as held:
        assert cache.get(_reserved_key(user.pk)) == held.tokens == PROMPT + 100
    assert cache.get(_reserved_key(user.pk)) == 0


def test_no_max_tokens_reserves_and_sends_the_default(user, settings):
    """An unbounded answer could pass any cap."""
    settings.AI_DAILY_TOKEN_BUDGET = 100_000
    settings.DEEPSEEK_MAX_TOKENS = 700

    assert reserve_tokens(user, MESSAGES, max_tokens=None).max_tokens == 700


def test_a_zero_budget_reserves_nothing(user, settings):
    settings.AI_DAILY_TOKEN_BUDGET = 0

    held = reserve_tokens(user, MESSAGES, max_tokens=None)

    assert held.tokens == 0 and held.max_tokens is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_never_reserve_more_than_the_budget(user, settings):
    """25 calls at once (the review's 2.6x overrun): together they hold at most the budget."""
    settings.AI_DAILY_TOKEN_BUDGET = 3000

    def one(_: int) -> int:
        try:
            return reserve_tokens(user.pk, MESSAGES, max_tokens=300).tokens
        except BudgetExceeded:
            return 0
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        held = list(pool.map(one, range(25)))

    assert sum(held) <= 3000
    assert sum(held) == cache.get(_reserved_key(user.pk))
    assert sum(1 for tokens in held if tokens) >= 3000 // (PROMPT + 300)


def test_the_quick_check_counts_calls_in_flight(user, settings):
    """A page refuses at once (a form error) when running calls hold the rest of the day."""
    from studio.guardrails.budgets import check_token_budget

    settings.AI_DAILY_TOKEN_BUDGET = 3000
    reserve_tokens(user, MESSAGES, max_tokens=5000)  # shortened to all that is left

    with pytest.raises(BudgetExceeded):
        check_token_budget(user)


def test_tokens_used_today_counts_the_billed_calls_with_sql_compiled_once_a_day(
    user, other_user, compiles, monkeypatch
):
    """Every call reads what its user used today: the total every page shows (billed calls
    only, since midnight), with one compile per day however many users (studio.tuning 7)."""
    from datetime import timedelta

    from django.utils import timezone

    from studio.audit import models as audit
    from studio.guardrails import budgets
    from studio.guardrails.budgets import tokens_used_today

    budgets._used_since.cache_clear()  # as in a new process
    now = timezone.now()
    AuditLog.objects.create(user=user, status="ok", total_tokens=60, created=now)
    AuditLog.objects.create(user=user, status="failed", total_tokens=7, created=now)
    AuditLog.objects.create(user=user, status="ok", total_tokens=500, cached=True, created=now)
    AuditLog.objects.create(user=user, status="over_budget", total_tokens=900, created=now)
    AuditLog.objects.create(
        user=user, status="ok", total_tokens=40, created=now - timedelta(days=1)
    )
    AuditLog.objects.create(user=other_user, status="ok", total_tokens=30, created=now)
    compiles.clear()

    used = [tokens_used_today(user), tokens_used_today(other_user.pk), tokens_used_today(0)]

    assert used == [67, 30, 0]
    assert used[0] == AuditLog.objects.filter(user=user).today().usage().tokens
    reads = [sql for sql in compiles if 'SUM("audit_auditlog"."total_tokens")' in sql]
    assert len(reads) == 2  # one above, one by the check against usage()

    # The next day: yesterday's calls no longer count, in SQL compiled for that day.
    tomorrow = audit.start_of_day() + timedelta(days=1)
    monkeypatch.setattr(budgets, "start_of_day", lambda: tomorrow)
    assert tokens_used_today(user) == 0 and tokens_used_today(other_user) == 0
    assert len([sql for sql in compiles if 'SUM("audit_auditlog"."total_tokens")' in sql]) == 3
