"""Writes that touch workspaces and memberships together."""

from django.db import transaction

from .models import Membership, Workspace


@transaction.atomic
def create_workspace(*, name: str, owner) -> Workspace:
    """Create a workspace with ``owner`` as its first member (role owner)."""
    workspace = Workspace.objects.create(name=name, created_by=owner)
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace
