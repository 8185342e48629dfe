"""A response cache for identical deterministic chat requests (the API path).

A request is cacheable when its answer does not depend on chance: temperature 0, or the caller
asked for reuse (``X-Studio-Cache: reuse``). The key is a hash of the model, the messages and
every parameter that changes the answer, never of who asked or from where. ``X-Studio-Cache:
bypass`` (or ``Cache-Control: no-cache``) skips the lookup and refreshes the entry. Hits,
misses and bypasses are counted in ``ai_cache_total``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from studio.audit.metrics import observe_cache

PREFIX = "ai:response:"


def cache_key(*, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def cache_mode(request: HttpRequest, *, temperature: float | None) -> str:
    """``use`` (look up and store), ``refresh`` (store only) or ``off``."""
    if not settings.AI_CACHE_TTL:
        return "off"
    asked = request.headers.get("X-Studio-Cache", "").strip().lower()
    deterministic = temperature == 0 or asked == "reuse"
    if not deterministic:
        return "off"
    no_cache = "no-cache" in request.headers.get("Cache-Control", "").lower()
    return "refresh" if asked == "bypass" or no_cache else "use"


def lookup(key: str, mode: str) -> dict[str, Any] | None:
    """The cached answer for ``key`` (counted as a hit or a miss), or None."""
    if mode == "off":
        return None
    if mode == "refresh":
        observe_cache("bypass")
        return None
    found = cache.get(key)
    observe_cache("hit" if found is not None else "miss")
    return found


def store(key: str, mode: str, answer: dict[str, Any]) -> None:
    """Keep a complete answer (``content``, ``reasoning``, ``finish_reason``, ``usage``)."""
    if mode != "off" and answer.get("finish_reason") in {"stop", "length"}:
        cache.set(key, answer, settings.AI_CACHE_TTL)
