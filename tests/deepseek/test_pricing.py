"""Cost arithmetic from the price table, peak hours, and the pre-flight token estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from studio.deepseek import ContextTooLong, Usage
from studio.deepseek.pricing import (
    DEFAULT_PRICES,
    UnknownPrice,
    check_context,
    cost_usd,
    estimate_prompt_tokens,
    estimate_tokens,
    is_peak,
    price_table,
)

# 2026-11-25 is a Wednesday; 2026-11-28 a Saturday.
WEDNESDAY = datetime(2026, 11, 25, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "peak"),
    [
        (0, 59, False),
        (1, 0, True),
        (3, 59, True),
        (4, 0, False),
        (5, 59, False),
        (6, 0, True),
        (9, 59, True),
        (10, 0, False),
        (16, 30, False),
    ],
)
def test_peak_windows_on_weekdays(hour, minute, peak) -> None:
    assert is_peak(WEDNESDAY.replace(hour=hour, minute=minute)) is peak


def test_weekends_are_off_peak() -> None:
    assert not is_peak(SATURDAY.replace(hour=2))
    assert not is_peak(SATURDAY.replace(hour=7) + timedelta(days=1))


def test_peak_is_judged_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    # 09:30 in Beijing is 01:30 UTC: peak. 12:30 in Beijing is 04:30 UTC: off-peak.
    assert is_peak(datetime(2026, 11, 25, 9, 30, tzinfo=beijing))
    assert not is_peak(datetime(2026, 11, 25, 12, 30, tzinfo=beijing))
    assert is_peak(datetime(2026, 11, 25, 2, 0))  # naive: taken as UTC


USAGE = Usage(
    prompt_tokens=1_000_000,
    completion_tokens=2_000_000,
    total_tokens=3_000_000,
    prompt_cache_hit_tokens=400_000,
    prompt_cache_miss_tokens=600_000,
    reasoning_tokens=500_000,
)


@pytest.mark.parametrize(
    ("model", "hour", "expected"),
    [
        # 0.4 * 0.006 + 0.6 * 0.30 + 2 * 1.20
        ("deepseek-flash", 2, Decimal("2.5824")),
        ("deepseek-flash", 12, Decimal("1.2912")),  # off-peak: half
        ("deepseek-v4-flash", 2, Decimal("2.5824")),  # legacy id billed as Flash
        # 0.4 * 0.044 + 0.6 * 1.32 + 2 * 3.96
        ("deepseek-v4-pro", 7, Decimal("8.7296")),
        ("deepseek-v4-pro", 20, Decimal("4.3648")),
    ],
)
def test_cost_per_model_and_period(model, hour, expected) -> None:
    assert cost_usd(model, USAGE, WEDNESDAY.replace(hour=hour)) == expected


def test_small_call_cost_is_exact() -> None:
    usage = Usage(
        prompt_tokens=12,
        completion_tokens=28,
        total_tokens=40,
        prompt_cache_hit_tokens=0,
        prompt_cache_miss_tokens=12,
    )
    # (12 * 0.30 + 28 * 1.20) / 1e6
    assert cost_usd("deepseek-flash", usage, WEDNESDAY.replace(hour=8)) == Decimal("0.0000372")


def test_prompt_tokens_without_a_cache_split_are_billed_as_misses() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=0)
    assert cost_usd("deepseek-flash", usage, WEDNESDAY.replace(hour=2)) == Decimal("0.30")


def test_unknown_model_has_no_price() -> None:
    with pytest.raises(UnknownPrice):
        cost_usd("deepseek-chat", USAGE, WEDNESDAY)


def test_price_table_accepts_lists_and_explicit_off_peak() -> None:
    table = price_table(
        {"a": ["1", "2", "4"], "b": {"peak": [1, 2, 4], "off_peak": ["0.1", "0.2", "0.4"]}}
    )
    usage = Usage(
        prompt_tokens=1_000_000, completion_tokens=1_000_000, prompt_cache_miss_tokens=1_000_000
    )
    assert cost_usd("a", usage, WEDNESDAY.replace(hour=2), table) == Decimal(6)
    assert cost_usd("a", usage, SATURDAY, table) == Decimal(3)
    assert cost_usd("b", usage, SATURDAY, table) == Decimal("0.6")


def test_default_table_matches_the_documented_prices() -> None:
    table = price_table(DEFAULT_PRICES)
    flash, pro = table["deepseek-flash"], table["deepseek-v4-pro"]
    assert (flash.peak.cache_hit, flash.peak.cache_miss, flash.peak.output) == (
        Decimal("0.006"),
        Decimal("0.30"),
        Decimal("1.20"),
    )
    assert flash.off_peak.output == Decimal("0.60")
    assert (pro.peak.cache_hit, pro.peak.cache_miss, pro.peak.output) == (
        Decimal("0.044"),
        Decimal("1.32"),
        Decimal("3.96"),
    )
    assert pro.off_peak.cache_miss == Decimal("0.66")


def test_token_estimate_uses_the_published_ratios() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a" * 10) == 3  # 0.3 per English character
    assert estimate_tokens("我" * 10) == 6  # 0.6 per Chinese character
    assert estimate_tokens("hello 世界") == 3  # 6 * 0.3 + 2 * 0.6
    assert estimate_tokens("a" * 7) == 3  # 2.1 rounds up
    assert estimate_tokens("ab") == 1  # 0.6 rounds up


def test_prompt_estimate_adds_per_message_framing() -> None:
    messages = [{"role": "system", "content": "a" * 10}, {"role": "user", "content": "我" * 10}]
    assert estimate_prompt_tokens(messages) == 3 + 6 + 2 * 4
    assert estimate_prompt_tokens([{"role": "assistant", "content": None}]) == 4


def test_check_context() -> None:
    messages = [{"role": "user", "content": "a" * 1000}]  # 300 + 4
    assert check_context(messages, model="m", max_tokens=100, context_tokens=404) == 404
    with pytest.raises(ContextTooLong) as info:
        check_context(messages, model="m", max_tokens=101, context_tokens=404)
    assert (info.value.estimated_tokens, info.value.prompt_tokens) == (405, 304)
    assert "answer length" in info.value.user_message
    with pytest.raises(ContextTooLong) as info:
        check_context(messages, model="deepseek-flash", max_tokens=None, context_tokens=100)
    assert "304" in info.value.user_message and "deepseek-flash" in info.value.user_message
    assert not info.value.retryable
