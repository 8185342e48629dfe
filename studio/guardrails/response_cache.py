"""A response cache for identical deterministic chat requests.

A request is cacheable when its answer does not depend on chance: temperature 0 (outside
thinking mode), or the caller asked for reuse (``X-Studio-Cache: reuse``). The key is a hash of
the model, the messages and every parameter that changes the answer, never of who asked or
from where. ``X-Studio-Cache: bypass`` (or ``Cache-Control: no-cache``) skips the lookup and
refreshes the entry. Hits, misses and bypasses are counted in ``ai_cache_total``.

Two paths use it: the OpenAI-compatible endpoint (``studio.api.chat``) and generations into
drafts (``drafts.generation``: the workspace's Generate, Regenerate, which refreshes, and the
JSON API's generate, which takes the same header). A/B experiment columns never do: their
time to first token and cost are evidence.

While the shared cache is unreachable (``studio.degraded``) answers are kept in, and reused
from, each worker's own memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from studio import degraded
from studio.audit.metrics import observe_cache
from studio.deepseek import ContentDelta, Finish, ReasoningDelta, Usage

PREFIX = "ai:response:"


def cache_key(*, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def decide(asked: str, *, temperature: float | None) -> str:
    """``use`` (look up and store), ``refresh`` (store only) or ``off``.

    ``asked`` is what the caller said (``reuse``, ``bypass`` or nothing); ``temperature`` is
    None where it does not apply (thinking mode ignores it).
    """
    asked = asked.strip().lower()
    if not settings.AI_CACHE_TTL or not (temperature == 0 or asked == "reuse"):
        return "off"
    return "refresh" if asked == "bypass" else "use"


def asked_by(request: HttpRequest) -> str:
    """What a request asks of the cache: ``X-Studio-Cache``, or ``bypass`` for no-cache."""
    if "no-cache" in request.headers.get("Cache-Control", "").lower():
        return "bypass"
    return request.headers.get("X-Studio-Cache", "")


def cache_mode(request: HttpRequest, *, temperature: float | None) -> str:
    """:func:`decide` for a request's headers."""
    return decide(asked_by(request), temperature=temperature)


def lookup(key: str, mode: str) -> dict[str, Any] | None:
    """The cached answer for ``key`` (counted as a hit or a miss), or None."""
    if mode == "off":
        return None
    if mode == "refresh":
        observe_cache("bypass")
        return None
    found = degraded.run(lambda cache: cache.get(key), what="response_cache")
    observe_cache("hit" if found is not None else "miss")
    return found


def store(key: str, mode: str, answer: dict[str, Any]) -> None:
    """Keep a complete answer (``content``, ``reasoning``, ``finish_reason``, ``usage``)."""
    if mode != "off" and answer.get("finish_reason") in {"stop", "length"}:
        ttl = settings.AI_CACHE_TTL
        degraded.run(lambda cache: cache.set(key, answer, ttl), what="response_cache")


def answer(
    *, content: str, reasoning: str, finish_reason: str, usage: Usage | None
) -> dict[str, Any]:
    """What the cache keeps of a complete answer."""
    return {
        "content": content,
        "reasoning": reasoning,
        "finish_reason": finish_reason,
        "usage": dataclasses.asdict(usage or Usage()),
    }


async def replay(found: dict[str, Any]) -> AsyncIterator[object]:
    """A kept answer as the events a stream of it would have sent."""
    if found["reasoning"]:
        yield ReasoningDelta(found["reasoning"])
    if found["content"]:
        yield ContentDelta(found["content"])
    yield Usage(**found["usage"])
    yield Finish(found["finish_reason"])
