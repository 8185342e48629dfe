"""The invitee's side: their pending invitations, each accepted or declined by them alone.

An invitation is found through ``for_invitee``: anyone else (the owners who sent it included)
gets a 404, as for an id that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .actions import accept_invitation
from .models import Invitation


def pending_for(user):
    """The user's invitations still waiting for an answer, with what the page shows."""
    invitations = Invitation.objects.for_invitee(user).pending()
    return invitations.select_related("workspace", "invited_by")


@require_GET
def invitations(request: HttpRequest) -> HttpResponse:
    """The workspaces the user is invited to join."""
    return render(
        request, "workspaces/invitations.html", {"invitations": pending_for(request.user)}
    )


@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept (join with the invited role) or decline one of the user's invitations."""
    invitation = get_object_or_404(pending_for(request.user), pk=pk)
    if "accept" in request.POST:
        try:
            accept_invitation(invitation=invitation)
        except Invitation.DoesNotExist:  # answered or revoked a moment ago
            return redirect("invitations")
        messages.success(request, _("You joined %(name)s.") % {"name": invitation.workspace})
        return redirect(invitation.workspace)
    if "decline" in request.POST:
        invitation.decline()
        messages.success(request, _("Invitation declined."))
        return redirect("invitations")
    return HttpResponseBadRequest(_("Choose Accept or Decline."))
