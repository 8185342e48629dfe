from django.conf import settings
from django.http import HttpRequest

from studio import degraded


def studio(request: HttpRequest) -> dict[str, object]:
    """Values every page needs: whether we are on the offline simulator, which model, and
    whether the shared cache (Redis) is down (a banner says what that pauses)."""
    return {
        "deepseek_offline": settings.DEEPSEEK_OFFLINE,
        "deepseek_model": settings.DEEPSEEK_MODEL,
        "shared_cache_down": degraded.cache_down(),
    }
