from django.conf import settings
from django.http import HttpRequest


def studio(request: HttpRequest) -> dict[str, object]:
    """Values every page needs: whether we are on the offline simulator, and which model."""
    return {
        "deepseek_offline": settings.DEEPSEEK_OFFLINE,
        "deepseek_model": settings.DEEPSEEK_MODEL,
    }
