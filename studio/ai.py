"""The Django side of the DeepSeek client: builds it from settings, one per event loop.

The client package (studio/deepseek/) knows nothing of Django; this adapter is the only place
that reads DEEPSEEK_* settings. One pooled httpx.AsyncClient serves every generation of the
process; it is bound to the event loop that created it, so a new loop (a test) gets its own.
"""

import asyncio

from django.conf import settings

from studio.deepseek import DeepSeekClient, Timeouts

_current: tuple[asyncio.AbstractEventLoop, DeepSeekClient] | None = None


def build_client() -> DeepSeekClient:
    return DeepSeekClient(
        base_url=settings.DEEPSEEK_BASE_URL,
        api_key=settings.DEEPSEEK_API_KEY,
        timeouts=Timeouts(
            connect=settings.DEEPSEEK_CONNECT_TIMEOUT,
            first_token=settings.DEEPSEEK_FIRST_TOKEN_TIMEOUT,
            idle=settings.DEEPSEEK_IDLE_TIMEOUT,
            total=settings.DEEPSEEK_TOTAL_TIMEOUT,
        ),
        max_connections=settings.DEEPSEEK_MAX_CONNECTIONS,
    )


def get_client() -> DeepSeekClient:
    """The process's pooled client for the running event loop."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current[0] is not loop:
        _current = (loop, build_client())
    return _current[1]


async def close_client() -> None:
    """Close the pooled client (ASGI lifespan shutdown)."""
    global _current
    if _current is not None:
        _, client = _current
        _current = None
        await client.aclose()
