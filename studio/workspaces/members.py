"""The members page: everyone sees who is in the workspace; owners invite (the invitee joins
by accepting), revoke pending invitations, change roles and remove members."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from studio.http import HtmxHttpRequest, request_number

from .access import may_manage, membership
from .actions import MembershipError, change_role, remove_member
from .actions import invite as invite_someone
from .forms import InviteForm, RoleForm
from .models import MANAGE, Membership, Workspace

MEMBERS = "workspaces/members.html"


@require_http_methods(["GET", "POST"])
@may_manage()
def members(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The member list; POST (owners) invites, revokes an invitation (``revoke``), changes a
    role (``member``) or removes one."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=pk)
    invite = InviteForm(request.POST if "invite" in request.POST else None)
    if request.method == "POST":
        try:
            _act(request, space, invite)
        except MembershipError as error:
            messages.error(request, str(error))
        if not request.htmx and not invite.errors:
            return redirect("members", space.pk)
    me = membership(request.user, workspace_id=space.pk)
    may = me is not None and me.can(MANAGE)
    context = {
        "workspace": space,
        "members": space.memberships.select_related("user").order_by("user__username"),
        "invitations": space.invitations.unanswered() if may else [],
        "roles": Membership.Role.choices,
        "invite": invite,
        "may_manage": may,
    }
    return render(request, f"{MEMBERS}#member-list" if request.htmx else MEMBERS, context)


def _act(request: HtmxHttpRequest, space: Workspace, invite: InviteForm) -> None:
    if "invite" in request.POST:
        if invite.is_valid():
            who, role = invite.cleaned_data["who"], invite.cleaned_data["role"]
            site = request.build_absolute_uri("/").removesuffix("/")
            invite_someone(workspace=space, who=who, role=role, invited_by=request.user, site=site)
            # The same words whether or not the account exists: no way to probe for one.
            messages.success(
                request, _("If an account with that name or email exists, it has been invited.")
            )
        return
    if "revoke" in request.POST:
        unanswered = space.invitations.unanswered()
        invitation = get_object_or_404(unanswered, pk=request_number(request.POST.get("revoke")))
        invitation.delete()
        messages.success(request, _("Invitation revoked."))
        return
    member = get_object_or_404(space.memberships, pk=request_number(request.POST.get("member")))
    if "remove" in request.POST:
        remove_member(member=member)
        messages.success(request, _("%(user)s removed.") % {"user": member.user.get_username()})
        return
    form = RoleForm(request.POST)
    if form.is_valid():
        change_role(member=member, role=form.cleaned_data["role"])
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": member.user.get_username(), "role": member.get_role_display()},
        )
