"""The provider-status page: can the studio reach DeepSeek, with which models and credit."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio import ai
from studio.http import HtmxHttpRequest

TEMPLATE = "studio/provider_status.html"


@require_GET
async def provider_status(request: HtmxHttpRequest) -> HttpResponse:
    """Check DeepSeek now (models, balance) and show the shared circuit breaker's state.

    Amounts of money are shown to staff only; everyone sees whether credit is available.
    """
    user = await request.auser()
    status = await ai.provider_status()
    context = {
        "status": status,
        "show_amounts": user.is_staff,
        "offline": settings.DEEPSEEK_OFFLINE,
        "base_url": settings.DEEPSEEK_BASE_URL,
        "configured_models": sorted({settings.DEEPSEEK_MODEL, settings.DEEPSEEK_REASONING_MODEL}),
    }
    template = f"{TEMPLATE}#provider-status" if request.htmx else TEMPLATE
    return await sync_to_async(render)(request, template, context)
