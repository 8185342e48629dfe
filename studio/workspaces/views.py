from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

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
