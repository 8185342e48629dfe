"""The invitee's side: their pending invitations, each accepted or declined by them alone.

An invitation is found through ``for_invitee``: anyone else (the owners who sent it included)
gets a 404, as for an id that does not exist. An invitation sent to an email address is also
found through the signed link emailed to it (``join``): its reader accepts it signed in, or
creates an account with it and joins.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .actions import accept_invitation, join_with_new_account
from .forms import JoinForm
from .models import Invitation

JOIN = "workspaces/join.html"


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


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """An emailed invitation's link: sign up and join (no account yet), or accept or decline
    signed in. A bad, expired or used link is a 404 that says so. (The token is signed, so
    there is nothing to guess; the page limits count anonymous posts per address.)"""
    invitation = Invitation.objects.select_related("workspace", "invited_by").by_token(token)
    if invitation is None:
        return render(request, JOIN, {"invitation": None}, status=404)
    if request.user.is_authenticated:
        return _answer_signed_in(request, invitation)
    form = None
    if invitation.invitee_id is None:  # an address without an account: it may make one
        form = JoinForm(request.POST or None, email=invitation.sent_to)
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            member = join_with_new_account(
                invitation=invitation, username=data["username"], password=data["password1"]
            )
        except Invitation.DoesNotExist:  # answered or revoked a moment ago
            return render(request, JOIN, {"invitation": None}, status=404)
        login(request, member.user, backend="studio.accounts.ThrottledModelBackend")
        messages.success(request, _("You joined %(name)s.") % {"name": invitation.workspace})
        return redirect(invitation.workspace)
    return render(request, JOIN, {"invitation": invitation, "form": form})


def _answer_signed_in(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """Accept or decline with the signed-in account, unless the invitation names another."""
    mine = invitation.invitee_id in (None, request.user.pk)
    if request.method == "POST" and mine and "accept" in request.POST:
        try:
            accept_invitation(invitation=invitation, user=request.user)
        except Invitation.DoesNotExist:
            return render(request, JOIN, {"invitation": None}, status=404)
        messages.success(request, _("You joined %(name)s.") % {"name": invitation.workspace})
        return redirect(invitation.workspace)
    if request.method == "POST" and mine and "decline" in request.POST:
        invitation.decline()
        messages.success(request, _("Invitation declined."))
        return redirect("home")
    return render(request, JOIN, {"invitation": invitation, "mine": mine})
