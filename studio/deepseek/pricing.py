"""What a call costs, and whether a prompt can fit the model at all.

Prices are USD per million tokens in three parts (DeepSeek bills them separately): prompt
tokens served from the context cache, prompt tokens not in the cache, and output tokens
(reasoning included). Since 2026-08-16 DeepSeek charges a peak and an off-peak rate; peak is
01:00-04:00 and 06:00-10:00 UTC on weekdays (Beijing 09-12 and 14-18), everything else,
weekends included, is off-peak at half price. Prices change: the table is configuration
(``DEEPSEEK_PRICES``), and :data:`DEFAULT_PRICES` is the November 2026 pricing page.

The pre-flight estimate uses DeepSeek's published rule of thumb: about 0.3 token per English
character and 0.6 per Chinese character. It is deliberately rough; it exists to refuse a prompt
that clearly cannot fit before anything is sent, not to bill.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from .errors import ContextTooLong
from .events import Usage

MILLION = Decimal(1_000_000)

# Weekday UTC windows billed at the peak rate: [start, end).
PEAK_WINDOWS_UTC: tuple[tuple[time, time], ...] = ((time(1), time(4)), (time(6), time(10)))

# USD per 1M tokens: [cache hit input, cache miss input, output]; off-peak is half unless given.
DEFAULT_PRICES: dict[str, Any] = {
    "deepseek-flash": {"peak": ["0.006", "0.30", "1.20"], "off_peak": ["0.003", "0.15", "0.60"]},
    # The retired V4-Flash ids are still accepted, served by V4.1-Flash and billed as Flash.
    "deepseek-v4-flash": {
        "peak": ["0.006", "0.30", "1.20"],
        "off_peak": ["0.003", "0.15", "0.60"],
    },
    "deepseek-v4-pro": {"peak": ["0.044", "1.32", "3.96"], "off_peak": ["0.022", "0.66", "1.98"]},
}

# V4 models read up to 1M tokens (prompt and answer together).
DEFAULT_CONTEXT_TOKENS = 1_000_000

_CJK_RE = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
# Chat framing (role markers, separators) costs a few tokens per message.
MESSAGE_OVERHEAD_TOKENS = 4


class UnknownPrice(LookupError):
    """The price table has no entry for this model."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per one million tokens."""

    cache_hit: Decimal
    cache_miss: Decimal
    output: Decimal

    @classmethod
    def parse(cls, value: Sequence[Any]) -> Price:
        hit, miss, output = (Decimal(str(v)) for v in value)
        return cls(hit, miss, output)

    def half(self) -> Price:
        return Price(self.cache_hit / 2, self.cache_miss / 2, self.output / 2)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    peak: Price
    off_peak: Price


def price_table(config: Mapping[str, Any]) -> dict[str, ModelPrice]:
    """Build a price table from settings-style data.

    Each model maps to ``[hit, miss, output]`` (peak prices; off-peak is half) or to
    ``{"peak": [...], "off_peak": [...]}``. Numbers may be strings (exact) or numbers.
    """
    table: dict[str, ModelPrice] = {}
    for model, value in config.items():
        if isinstance(value, Mapping):
            peak = Price.parse(value["peak"])
            off_peak = Price.parse(value["off_peak"]) if "off_peak" in value else peak.half()
        else:
            peak = Price.parse(value)
            off_peak = peak.half()
        table[model] = ModelPrice(peak, off_peak)
    return table


_DEFAULT_TABLE = price_table(DEFAULT_PRICES)


def is_peak(at: datetime) -> bool:
    """Whether DeepSeek bills ``at`` at the peak rate (a naive datetime is taken as UTC)."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if utc.weekday() >= 5:
        return False
    now = utc.time()
    return any(start <= now < end for start, end in PEAK_WINDOWS_UTC)


def price_for(model: str, at: datetime, prices: Mapping[str, ModelPrice] | None = None) -> Price:
    """The price that applies to ``model`` at ``at``; raises :class:`UnknownPrice`."""
    table = _DEFAULT_TABLE if prices is None else prices
    entry = table.get(model) or table.get(model.lower())
    if entry is None:
        raise UnknownPrice(model)
    return entry.peak if is_peak(at) else entry.off_peak


def cost_usd(
    model: str, usage: Usage, at: datetime, prices: Mapping[str, ModelPrice] | None = None
) -> Decimal:
    """The exact USD cost of one call (not rounded; store it with the precision you need).

    ``at`` is when the request was made (it picks peak or off-peak). Prompt tokens the usage
    does not split into cache hit/miss (older responses, proxies) are billed as misses, the
    dearer and therefore safer assumption. Output includes reasoning tokens, as DeepSeek
    bills them.
    """
    price = price_for(model, at, prices)
    hit = usage.prompt_cache_hit_tokens
    miss = max(usage.prompt_cache_miss_tokens, usage.prompt_tokens - hit)
    total = hit * price.cache_hit + miss * price.cache_miss + usage.completion_tokens * price.output
    return total / MILLION


def estimate_tokens(text: str) -> int:
    """DeepSeek's rule of thumb: 0.6 token per CJK character, 0.3 per other character."""
    cjk = len(_CJK_RE.findall(text))
    tenths = cjk * 6 + (len(text) - cjk) * 3  # integers: no float rounding at the boundary
    return -(-tenths // 10)


def estimate_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Estimated prompt tokens for a list of chat messages."""
    total = 0
    for message in messages:
        content = message.get("content")
        total += MESSAGE_OVERHEAD_TOKENS + (
            estimate_tokens(content) if isinstance(content, str) else 0
        )
    return total


def estimated_usage(messages: Sequence[Mapping[str, Any]], output: str) -> Usage:
    """Usage for a stream that ended before DeepSeek's usage chunk (a stop, a hang-up, a cut):
    the estimated prompt and the text that came, which DeepSeek bills all the same."""
    prompt, completion = estimate_prompt_tokens(messages), estimate_tokens(output)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_cache_miss_tokens=prompt,
    )


def check_context(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    max_tokens: int | None,
    context_tokens: int = DEFAULT_CONTEXT_TOKENS,
) -> int:
    """Refuse a request that cannot fit: raise :class:`ContextTooLong`, else return the
    estimated total (prompt plus ``max_tokens``, which DeepSeek reserves from the context)."""
    prompt = estimate_prompt_tokens(messages)
    total = prompt + (max_tokens or 0)
    if total > context_tokens:
        raise ContextTooLong(
            model=model, estimated_tokens=total, prompt_tokens=prompt, limit=context_tokens
        )
    return total
