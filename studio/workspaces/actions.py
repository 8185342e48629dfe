"""Writes that touch workspaces and memberships together."""

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Membership, Workspace


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
    """Add an existing user to the workspace with ``role``."""
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
