"""After logging in: the workspace last worked in, else the list of workspaces."""

from __future__ import annotations

from django.urls import reverse

from drafts.actions import add_version
from drafts.models import Draft
from studio.workspaces.actions import create_workspace
from studio.workspaces.models import Membership


def _log_in(client, next_url: str = ""):
    data = {"username": "hamlet", "password": "pw-hamlet-123"}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def test_without_a_workspace_the_login_lands_on_the_list(client, user):
    assert _log_in(client)["Location"] == reverse("home")


def test_the_login_lands_in_the_workspace_last_worked_in(client, user, workspace):
    older = create_workspace(name="Archive", owner=user)  # created (and so used) later
    assert _log_in(client)["Location"] == older.get_absolute_url()
    client.logout()
    draft = Draft.objects.create(workspace=workspace, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="edited", author_id=user.pk)

    assert _log_in(client)["Location"] == workspace.get_absolute_url()


def test_work_in_a_workspace_one_has_left_does_not_count(client, user, other_user, workspace):
    theirs = create_workspace(name="Theirs", owner=other_user)
    Membership.objects.create(workspace=theirs, user=user)
    draft = Draft.objects.create(workspace=theirs, title="Aurora", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="edited", author_id=user.pk)
    Membership.objects.filter(workspace=theirs, user=user).delete()

    assert _log_in(client)["Location"] == workspace.get_absolute_url()


def test_a_next_address_still_wins(client, user, workspace):
    assert _log_in(client, "/invitations/")["Location"] == "/invitations/"
