from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from studio.audit.models import AuditLog
from studio.workspaces.models import Workspace

from . import board


@require_GET
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """A workspace at a glance, in a fixed number of queries."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=pk)
    tokens, cost = board.daily_use(space)
    context = {
        "workspace": space,
        "statuses": board.drafts_by_status(space),
        "generations": board.recent_generations(space),
        "usage_today": AuditLog.objects.for_user(request.user).today().usage(),
        "token_budget": settings.AI_DAILY_TOKEN_BUDGET,
        "tokens_chart": tokens,
        "cost_chart": cost,
        "experiments": board.running_experiments(space),
    }
    return render(request, "dashboard/dashboard.html", context)
