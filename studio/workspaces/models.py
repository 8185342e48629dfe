"""Workspaces group a team's drafts and templates; membership decides who sees what."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkspaceQuerySet(models.QuerySet["Workspace"]):
    def for_user(self, user, *, can: str = "") -> WorkspaceQuerySet:
        """Workspaces the user is a member of: the only ones they may see.

        ``can``: only those where the user's role grants that capability (``EDIT``…).
        """
        if not user.is_authenticated:
            return self.none()
        if can:
            roles = Membership.roles_that_can(can)
            return self.filter(memberships__user=user, memberships__role__in=roles)
        return self.filter(memberships__user=user)


class Workspace(models.Model):
    name = models.CharField(_("name"), max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workspace", args=[self.pk])


# What a member may do; each role grants a set of these (Membership.GRANTS).
READ, REVIEW, EDIT, MANAGE = "read", "review", "edit", "manage"


class MembershipQuerySet(models.QuerySet["Membership"]):
    def that_can(self, capability: str) -> MembershipQuerySet:
        """Memberships whose role grants ``capability`` (``EDIT``, ``MANAGE``…)."""
        return self.filter(role__in=Membership.roles_that_can(capability))


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")
        REVIEWER = "reviewer", _("Reviewer")

    # Reviewers read and review (votes, draft status); editors also do the content work;
    # only owners manage the members.
    GRANTS = {
        Role.OWNER: {READ, REVIEW, EDIT, MANAGE},
        Role.EDITOR: {READ, REVIEW, EDIT},
        Role.REVIEWER: {READ, REVIEW},
    }

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @classmethod
    def roles_that_can(cls, capability: str) -> list[str]:
        return [role for role, grants in cls.GRANTS.items() if capability in grants]

    def can(self, capability: str) -> bool:
        """Whether this member's role grants ``capability`` (``READ``, ``EDIT``…)."""
        return capability in self.GRANTS.get(self.role, ())


INVITATION_SALT = "studio.workspaces.invitation"


def invitation_expiry():
    """When an invitation made now stops working (INVITATION_MAX_AGE_DAYS from now)."""
    return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def unanswered(self) -> InvitationQuerySet:
        """Neither accepted nor declined, expired or not (a revoked invitation is deleted)."""
        return self.filter(accepted_at=None, declined_at=None)

    def pending(self) -> InvitationQuerySet:
        """Unanswered and not expired: the ones that can still be accepted."""
        return self.unanswered().filter(expires_at__gt=timezone.now())

    def by_token(self, token: str) -> Invitation | None:
        """The pending invitation an emailed link's token names, else None (forged, expired,
        answered, revoked, or sent again since: each sending signs a new link)."""
        try:
            pk, stamp = signing.loads(token, salt=INVITATION_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            return None
        if not (type(pk) is int and type(stamp) is int):
            return None
        invitation = self.pending().filter(pk=pk).first()
        return invitation if invitation and invitation.stamp == stamp else None

    def for_invitee(self, user) -> InvitationQuerySet:
        """Invitations the user may answer: their own, and only theirs."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(invitee=user)


class Invitation(models.Model):
    """An owner's offer of a role; the invitee joins only by accepting it.

    ``sent_to`` is the username or email the owner typed. An invitation is kept whether or not
    it names an account, so the owner's page looks the same either way and reveals nothing
    about who has an account. An account it names accepts it from /invitations/; when
    ``sent_to`` is an email address, a signed link is emailed too, with which its reader
    accepts it (signed in) or creates an account and joins (``invitee`` is then empty until
    then). It expires after INVITATION_MAX_AGE_DAYS.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    sent_to = models.CharField(_("username or email"), max_length=254)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="workspace_invitations",
    )
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # Sending it again (the owner invites the same name) renews it, and signs a new link.
    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("sent_to"),
                "workspace",
                condition=models.Q(accepted_at=None, declined_at=None),
                name="one_pending_invitation_per_name",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sent_to} to {self.workspace} ({self.role})"

    @property
    def stamp(self) -> int:
        """The expiry in microseconds: part of the link's token, so a renewed invitation's
        old link no longer works."""
        return int(self.expires_at.timestamp() * 1_000_000)

    def token(self) -> str:
        """The signed token of the link emailed to ``sent_to`` (``by_token`` reads it)."""
        return signing.dumps([self.pk, self.stamp], salt=INVITATION_SALT)

    def get_join_url(self) -> str:
        return reverse("invitation_join", args=[self.token()])

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def decline(self) -> None:
        """The invitee says no; the invitation stays, answered, and leaves the owners' list."""
        self.declined_at = timezone.now()
        self.save(update_fields=["declined_at"])
