from django.conf import settings
from django.http import HttpRequest

from studio import degraded


def studio(request: HttpRequest) -> dict[str, object]:
    """Values every page needs: whether we are on the offline simulator, which model, and
    whether the shared cache (Redis) is down (a banner says what that pauses); and the htmx
    timings the pages' polls use (a recovering generation's, a running batch's)."""
    return {
        "deepseek_offline": settings.DEEPSEEK_OFFLINE,
        "deepseek_model": settings.DEEPSEEK_MODEL,
        "shared_cache_down": degraded.cache_down(),
        "recovering_poll": htmx_interval(settings.RECOVERING_POLL_SECONDS),
        "batch_poll": htmx_interval(settings.BATCH_POLL_SECONDS),
    }


def htmx_interval(seconds: float) -> str:
    """An htmx time ("1s", "250ms"): whole seconds in seconds, anything else in milliseconds."""
    ms = max(round(seconds * 1000), 0)
    return f"{ms // 1000}s" if ms and ms % 1000 == 0 else f"{ms}ms"
