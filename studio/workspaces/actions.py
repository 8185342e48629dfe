"""Writes that touch workspaces, memberships and invitations together."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Invitation, Membership, Workspace, invitation_expiry


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


def _is_email(who: str) -> bool:
    try:
        validate_email(who)
    except ValidationError:
        return False
    return True


@transaction.atomic
def invite(*, workspace: Workspace, who: str, role: str, invited_by, site: str = "") -> Invitation:
    """Invite whoever has the username or email ``who`` to join with ``role``.

    The invitation is made (or, still unanswered, renewed with the new role) whether or not
    such an account exists, or is already a member: only an invitee who can join gets to see
    it. When ``who`` is an email address, a link to accept it (and to create an account,
    for an address without one) is emailed once this commits; ``site`` (``https://host``)
    makes the link absolute.
    """
    who = who.strip()
    invitee = _account_named(who)
    if invitee is not None and workspace.memberships.filter(user=invitee).exists():
        invitee = None
    fields = {
        "invitee": invitee,
        "role": role,
        "invited_by": invited_by,
        "expires_at": invitation_expiry(),
    }
    invitation, _created = Invitation.objects.unanswered().update_or_create(
        workspace=workspace,
        sent_to__iexact=who,
        defaults=fields,
        create_defaults=fields | {"sent_to": who},
    )
    if _is_email(who):
        message = invitation_email(invitation, site=site)
        transaction.on_commit(message.send)
    return invitation


def invitation_email(invitation: Invitation, *, site: str) -> EmailMessage:
    """The email with the invitation's link, in the language of the request that sent it."""
    context = {
        "invitation": invitation,
        "workspace": invitation.workspace.name,
        "inviter": invitation.invited_by.get_username() if invitation.invited_by else "",
        "role": invitation.get_role_display(),
        "link": site + invitation.get_join_url(),
    }
    subject = render_to_string("workspaces/invitation_subject.txt", context)
    body = render_to_string("workspaces/invitation_email.txt", context)
    return EmailMessage(" ".join(subject.split()), body, to=[invitation.sent_to])


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user=None) -> Membership:
    """The invitee joins with the invited role; the invitation is used up.

    ``user``: who accepts an emailed invitation that names no account (the link's reader,
    signed in); an invitation that names one is that account's alone.
    Raises ``Invitation.DoesNotExist`` when it was answered, revoked or expired meanwhile.
    """
    invitation = Invitation.objects.select_for_update().pending().get(pk=invitation.pk)
    if invitation.invitee_id is None and user is not None:
        invitation.invitee = user
    if invitation.invitee_id is None or (user is not None and invitation.invitee_id != user.pk):
        raise Invitation.DoesNotExist("This invitation is for another account.")
    member, _created = Membership.objects.get_or_create(
        workspace_id=invitation.workspace_id,
        user_id=invitation.invitee_id,
        defaults={"role": invitation.role},
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["invitee", "accepted_at"])
    return member


@transaction.atomic
def join_with_new_account(*, invitation: Invitation, username: str, password: str) -> Membership:
    """Create an account for an emailed invitation's address and accept it with that account.

    Raises ``Invitation.DoesNotExist`` when it can no longer be accepted.
    """
    invitation = Invitation.objects.select_for_update().pending().get(pk=invitation.pk)
    user = get_user_model().objects.create_user(username, invitation.sent_to, password)
    return accept_invitation(invitation=invitation, user=user)
