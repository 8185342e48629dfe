"""The members page: everyone sees the list; owners invite, change roles and remove; a
workspace always keeps an owner."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from studio.workspaces.actions import MembershipError, change_role, remove_member
from studio.workspaces.models import Membership


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def url(workspace):
    return reverse("members", args=[workspace.pk])


def _member(workspace, username) -> Membership:
    return workspace.memberships.get(user__username=username)


def test_an_owner_invites_by_username_or_email(owner_client, url, workspace, django_user_model):
    django_user_model.objects.create_user("ophelia", email="ophelia@example.com")
    django_user_model.objects.create_user("horatio")
    owner_client.post(url, {"invite": "", "who": "OPHELIA@example.com", "role": "reviewer"})
    owner_client.post(url, {"invite": "", "who": "horatio", "role": "editor"})
    assert _member(workspace, "ophelia").role == "reviewer"
    assert _member(workspace, "horatio").role == "editor"


def test_an_unknown_user_is_a_form_error(owner_client, url, workspace):
    response = owner_client.post(url, {"invite": "", "who": "nobody", "role": "editor"})
    assert response.status_code == 200
    assert "No user with that username or email." in response.content.decode()
    assert workspace.memberships.count() == 1


def test_an_owner_changes_a_role_and_removes_in_place(owner_client, url, workspace, other_user):
    member = Membership.objects.create(workspace=workspace, user=other_user, role="editor")
    htmx = {"HX-Request": "true"}
    response = owner_client.post(url, {"member": member.pk, "role": "reviewer"}, headers=htmx)
    body = response.content.decode()
    assert 'id="member-list"' in body and "<html" not in body
    assert "cordelia is now Reviewer." in body
    member.refresh_from_db()
    assert member.role == "reviewer"
    owner_client.post(url, {"member": member.pk, "remove": ""}, headers=htmx)
    assert not workspace.memberships.filter(user=other_user).exists()


def test_the_last_owner_can_be_neither_demoted_nor_removed(owner_client, url, workspace, user):
    me = _member(workspace, user.username)
    response = owner_client.post(url, {"member": me.pk, "role": "editor"}, follow=True)
    assert "keeps at least one owner" in response.content.decode()
    owner_client.post(url, {"member": me.pk, "remove": ""})
    me.refresh_from_db()
    assert me.role == "owner"
    with pytest.raises(MembershipError):
        remove_member(member=me)


def test_with_a_second_owner_the_first_may_step_down(workspace, user, other_user):
    Membership.objects.create(workspace=workspace, user=other_user, role="owner")
    change_role(member=_member(workspace, user.username), role="reviewer")
    assert _member(workspace, user.username).role == "reviewer"
    with pytest.raises(MembershipError):
        remove_member(member=_member(workspace, other_user.username))


@pytest.mark.parametrize("role", ["editor", "reviewer"])
def test_everyone_sees_the_list_but_only_owners_manage(client, url, workspace, other_user, role):
    member = Membership.objects.create(workspace=workspace, user=other_user, role=role)
    client.force_login(other_user)
    page = client.get(url).content.decode()
    assert "hamlet" in page and "cordelia" in page and 'name="invite"' not in page
    response = client.post(url, {"member": member.pk, "role": "owner"})
    assert response.status_code == 403
    assert "Only the workspace's owners can manage its members." in unescape(response.text)
    member.refresh_from_db()
    assert member.role == role


def test_a_stranger_gets_404(client, url, other_user):
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"invite": "", "who": "cordelia", "role": "owner"}).status_code == 404
