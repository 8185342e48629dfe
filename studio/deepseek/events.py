"""Typed values produced by the DeepSeek client.

Streaming yields a sequence of :data:`Event` values: any number of ``ReasoningDelta`` and
``ContentDelta``, then (when the server reported it) one ``Usage``, then exactly one ``Finish``.
A stream that ends any other way raises an error from :mod:`studio.deepseek.errors` instead,
so a ``Finish`` is the only proof that the answer is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the answer text (never empty)."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's thinking text (never empty); not part of the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The stream completed; ``reason`` is DeepSeek's ``finish_reason``.

    Known values: ``stop``, ``length``, ``content_filter``, ``tool_calls`` and
    ``insufficient_system_resource`` (the server gave up for lack of capacity).
    """

    reason: str


def _int(value: Any) -> int:
    # Usage fields are sometimes missing or null (older captures, proxies); count those as 0.
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_cache_hit_tokens: int = 0
    prompt_cache_miss_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Usage:
        """Build from the API's ``usage`` object, tolerating missing or null keys."""
        if not data:
            return cls()
        details = data.get("completion_tokens_details")
        reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
        return cls(
            prompt_tokens=_int(data.get("prompt_tokens")),
            completion_tokens=_int(data.get("completion_tokens")),
            total_tokens=_int(data.get("total_tokens")),
            prompt_cache_hit_tokens=_int(data.get("prompt_cache_hit_tokens")),
            prompt_cache_miss_tokens=_int(data.get("prompt_cache_miss_tokens")),
            reasoning_tokens=_int(reasoning),
        )


Event = ContentDelta | ReasoningDelta | Finish | Usage


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The outcome of a non-streaming chat completion."""

    content: str
    reasoning: str
    finish_reason: str
    usage: Usage
    model: str


def _decimal(value: Any) -> Any:
    # The API sends amounts as strings ("110.00") so they stay exact; Decimal keeps them exact.
    if isinstance(value, str | int):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


@dataclass(frozen=True, slots=True)
class Balance:
    """The account balance: one info dict per currency, amounts as ``Decimal``.

    Each info looks like ``{"currency": "USD", "total_balance": Decimal("110.00"),
    "granted_balance": Decimal("10.00"), "topped_up_balance": Decimal("100.00")}``.
    """

    is_available: bool
    infos: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Balance:
        """Build from the ``/user/balance`` JSON body."""
        infos = []
        for info in data.get("balance_infos") or []:
            if isinstance(info, Mapping):
                infos.append({k: (v if k == "currency" else _decimal(v)) for k, v in info.items()})
        return cls(is_available=bool(data.get("is_available")), infos=infos)
