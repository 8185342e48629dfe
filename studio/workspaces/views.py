from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from studio.audit.models import AuditLog

from . import dashboard as board
from .actions import create_workspace
from .forms import WorkspaceForm
from .invitations import pending_for
from .models import Workspace


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The user's workspaces, the invitations waiting for their answer, and a form to create
    a workspace."""
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = create_workspace(name=form.cleaned_data["name"], owner=request.user)
        return redirect(workspace)
    context = {
        "form": form,
        "workspaces": Workspace.objects.for_user(request.user),
        "invitations": pending_for(request.user),
    }
    return render(request, "studio/home.html", context)


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
    return render(request, "studio/dashboard.html", context)
