"""Where a login lands: the workspace the user last worked in, else the list of workspaces.

"Last worked in" is read from rows that exist anyway (the user's generations and edits,
their audited calls, the workspaces they created or joined): remembering the last page opened
would need a write on every GET (sessions are database-backed), and reads only read.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db.models import QuerySet

from drafts.models import DraftVersion, Generation
from studio.audit.models import AuditLog
from studio.workspaces.models import Membership, Workspace


def _latest(rows: QuerySet, workspace: str) -> tuple | None:
    """(moment, workspace id) of the newest of ``rows``."""
    return rows.order_by("-created").values_list("created", workspace).first()


def last_used_workspace(user) -> Workspace | None:
    """The user's workspace with their newest activity (a few indexed one-row queries)."""
    mine = Workspace.objects.for_user(user)
    moments = [
        _latest(
            Generation.objects.filter(created_by=user, draft__workspace__in=mine),
            "draft__workspace",
        ),
        _latest(
            DraftVersion.objects.filter(author=user, draft__workspace__in=mine), "draft__workspace"
        ),
        _latest(AuditLog.objects.filter(user=user, workspace__in=mine), "workspace"),
        _latest(Membership.objects.filter(user=user), "workspace"),
    ]
    found = [moment for moment in moments if moment]
    if not found:
        return None
    return mine.filter(pk=max(found)[1]).first()


class LoginView(auth_views.LoginView):
    """Django's login; without a ``next``, on to the last used workspace."""

    def get_default_redirect_url(self) -> str:
        if workspace := last_used_workspace(self.request.user):
            return workspace.get_absolute_url()
        return super().get_default_redirect_url()
