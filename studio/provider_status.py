"""The provider-status page: can the studio reach DeepSeek, with which models and credit."""

from __future__ import annotations

import asyncio
import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio import ai, degraded
from studio.deepseek import ProviderStatus
from studio.guardrails.page_rate_limits import rate_limited_response
from studio.guardrails.rate_limits import RateLimited, check_rate
from studio.http import HtmxHttpRequest

TEMPLATE = "studio/provider_status.html"
# One check of DeepSeek (two upstream calls) serves every viewer for this long: reloading the
# page, or many people at once, cannot turn it into a stream of calls on the studio's key.
CHECK_TTL = 30
CHECK_KEY = "studio:provider-status"


@require_GET
async def provider_status(request: HtmxHttpRequest) -> HttpResponse:
    """DeepSeek's models and balance (checked at most every CHECK_TTL seconds) and the shared
    circuit breaker's state (always current). Rate-limited per user like a page write.

    Amounts of money and the provider's address are shown to staff only; everyone sees
    whether credit is available.
    """
    user = await request.auser()
    try:
        await sync_to_async(check_rate)(
            request, route="provider_status", scopes={"user": str(user.pk)}
        )
    except RateLimited as exc:
        return await sync_to_async(rate_limited_response)(request, exc)
    status = dataclasses.replace(await _checked(), breaker=await ai.breaker_state())
    context = {
        "status": status,
        "show_amounts": user.is_staff,
        "offline": settings.DEEPSEEK_OFFLINE,
        "base_url": settings.DEEPSEEK_BASE_URL if user.is_staff else "",
        "configured_models": sorted({settings.DEEPSEEK_MODEL, settings.DEEPSEEK_REASONING_MODEL}),
    }
    template = f"{TEMPLATE}#provider-status" if request.htmx else TEMPLATE
    return await sync_to_async(render)(request, template, context)


async def _checked() -> ProviderStatus:
    """The last check of DeepSeek from the shared cache, or a new one kept for CHECK_TTL."""
    # While the shared cache is down, each worker keeps its own check (studio.degraded).
    status = await asyncio.to_thread(_run, lambda cache: cache.get(CHECK_KEY))
    if status is None:
        status = await ai.provider_status()
        await asyncio.to_thread(_run, lambda cache: cache.set(CHECK_KEY, status, CHECK_TTL))
    return status


def _run(op):
    return degraded.run(op, what="provider_status")
