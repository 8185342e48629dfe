"""Writes that touch workspaces, memberships and invitations together."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Invitation, Membership, Workspace


@transaction.atomic
def create_workspace(*, name: str, owner) -> Workspace:
    """Create a workspace with ``owner`` as its first member (role owner)."""
    workspace = Workspace.objects.create(name=name, created_by=owner)
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


class MembershipError(ValueError):
    """A change the membership rules refuse (the message says why)."""


def _keeps_an_owner(member: Membership) -> None:
    """Refuse to take away the workspace's last owner (rows locked: two owners at once)."""
    owners = Membership.objects.select_for_update().filter(
        workspace_id=member.workspace_id, role=Membership.Role.OWNER
    )
    if member.role == Membership.Role.OWNER and not owners.exclude(pk=member.pk).exists():
        raise MembershipError(
            _("A workspace keeps at least one owner: make someone else owner first.")
        )


@transaction.atomic
def add_member(*, workspace: Workspace, user, role: str) -> Membership:
    """Add an existing user to the workspace with ``role``, without asking them.

    For code and tests only: people join through an invitation they accept (``invite``).
    """
    if workspace.memberships.filter(user=user).exists():
        raise MembershipError(_("%(user)s is already a member.") % {"user": user.get_username()})
    return Membership.objects.create(workspace=workspace, user=user, role=role)


@transaction.atomic
def change_role(*, member: Membership, role: str) -> Membership:
    """Give a member another role; the last owner stays owner."""
    if role != Membership.Role.OWNER:
        _keeps_an_owner(member)
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def remove_member(*, member: Membership) -> None:
    """Take a member out of the workspace; the last owner cannot be removed."""
    _keeps_an_owner(member)
    member.delete()


def _account_named(who: str):
    """The active user whose username is ``who``, or whose email is (any case); else None."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(username=who).first() or users.filter(email__iexact=who).first()


@transaction.atomic
def invite(*, workspace: Workspace, who: str, role: str, invited_by) -> Invitation:
    """Invite whoever has the username or email ``who`` to join with ``role``.

    The invitation is made (or, still pending, given the new role) whether or not such an
    account exists, or is already a member: only an invitee who can join gets to see it.
    """
    who = who.strip()
    invitee = _account_named(who)
    if invitee is not None and workspace.memberships.filter(user=invitee).exists():
        invitee = None
    fields = {"invitee": invitee, "role": role, "invited_by": invited_by}
    invitation, _created = Invitation.objects.pending().update_or_create(
        workspace=workspace,
        sent_to__iexact=who,
        defaults=fields,
        create_defaults=fields | {"sent_to": who},
    )
    return invitation


@transaction.atomic
def accept_invitation(*, invitation: Invitation) -> Membership:
    """The invitee joins with the invited role; the invitation is used up.

    Raises ``Invitation.DoesNotExist`` when it was answered or revoked in the meantime.
    """
    invitation = Invitation.objects.select_for_update().pending().get(pk=invitation.pk)
    member, _created = Membership.objects.get_or_create(
        workspace_id=invitation.workspace_id,
        user_id=invitation.invitee_id,
        defaults={"role": invitation.role},
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return member
