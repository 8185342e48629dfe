"""The members page: everyone sees the list; owners invite (the invitee accepts or declines),
revoke invitations, change roles and remove; a workspace always keeps an owner."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from studio.workspaces.actions import MembershipError, change_role, invite, remove_member
from studio.workspaces.models import Invitation, Membership


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def url(workspace):
    return reverse("members", args=[workspace.pk])


def _member(workspace, username) -> Membership:
    return workspace.memberships.get(user__username=username)


INVITED = "If an account with that name or email exists, it has been invited."


def test_an_owner_invites_by_username_or_email_and_nobody_joins_yet(
    owner_client, url, workspace, django_user_model
):
    """Finding 9: an invitation, not a membership; the invitee decides."""
    ophelia = django_user_model.objects.create_user("ophelia", email="ophelia@example.com")
    horatio = django_user_model.objects.create_user("horatio")
    owner_client.post(url, {"invite": "", "who": "OPHELIA@example.com", "role": "reviewer"})
    owner_client.post(url, {"invite": "", "who": "horatio", "role": "editor"})
    assert workspace.memberships.count() == 1
    pending = {i.invitee: i.role for i in Invitation.objects.pending()}
    assert pending == {ophelia: "reviewer", horatio: "editor"}


def test_the_answer_does_not_tell_whether_the_account_exists(
    owner_client, url, workspace, other_user
):
    """Finding 9: the same message and the same page for a real account and a made-up one."""
    pages = {}
    for who in ("cordelia", "nobody"):
        response = owner_client.post(url, {"invite": "", "who": who, "role": "editor"}, follow=True)
        assert response.status_code == 200
        pages[who] = _normalised(response.content.decode(), who)
        if who == "cordelia":  # the only account that can ever answer
            assert workspace.invitations.get().invitee == other_user
        workspace.invitations.all().delete()  # each page shows its own invitation alone
    assert INVITED in pages["cordelia"]
    assert pages["cordelia"] == pages["nobody"]
    assert workspace.memberships.count() == 1


def _normalised(page: str, who: str) -> str:
    """The page without what changes on every response (tokens, nonces, ids) or the name."""
    page = re.sub(r"[A-Za-z0-9]{64}", "", page)  # CSRF tokens
    page = re.sub(r'(nonce|content)="[^"]{20,}"', "", page)
    return re.sub(r'value="\d+"', "", page.replace(who, "NAME"))


def test_inviting_again_while_pending_changes_the_role(owner_client, url, workspace, other_user):
    owner_client.post(url, {"invite": "", "who": "cordelia", "role": "editor"})
    owner_client.post(url, {"invite": "", "who": "Cordelia", "role": "owner"})
    assert list(workspace.invitations.values_list("role", flat=True)) == ["owner"]


def test_an_invitee_accepts_and_joins_with_the_role(client, workspace, user, other_user):
    invitation = invite(workspace=workspace, who="cordelia", role="reviewer", invited_by=user)
    client.force_login(other_user)
    home = client.get("/").content.decode()
    assert "Marketing" in home and f'action="/invitations/{invitation.pk}/"' in home
    assert "Marketing" in client.get("/invitations/").content.decode()

    response = client.post(f"/invitations/{invitation.pk}/", {"accept": ""})

    assert response.status_code == 302 and response["Location"] == f"/w/{workspace.pk}/"
    assert _member(workspace, "cordelia").role == "reviewer"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert client.post(f"/invitations/{invitation.pk}/", {"accept": ""}).status_code == 404


def test_an_invitee_declines_and_does_not_join(client, workspace, user, other_user):
    invitation = invite(workspace=workspace, who="cordelia", role="owner", invited_by=user)
    client.force_login(other_user)
    response = client.post(f"/invitations/{invitation.pk}/", {"decline": ""}, follow=True)
    assert "Invitation declined." in response.content.decode()
    assert not workspace.memberships.filter(user=other_user).exists()
    assert not Invitation.objects.pending().exists()
    assert "Marketing" not in client.get("/").content.decode()


def test_only_the_invitee_may_answer(client, workspace, user, other_user, django_user_model):
    invitation = invite(workspace=workspace, who="cordelia", role="owner", invited_by=user)
    client.force_login(django_user_model.objects.create_user("iago"))
    assert client.post(f"/invitations/{invitation.pk}/", {"accept": ""}).status_code == 404
    assert "Marketing" not in client.get("/invitations/").content.decode()
    client.force_login(user)  # the owner who sent it cannot accept for them either
    assert client.post(f"/invitations/{invitation.pk}/", {"accept": ""}).status_code == 404
    assert workspace.memberships.count() == 1


def test_an_owner_sees_and_revokes_pending_invitations(owner_client, url, workspace, user):
    invitation = invite(
        workspace=workspace, who="nobody@example.com", role="editor", invited_by=user
    )
    page = owner_client.get(url).content.decode()
    assert 'data-invitation="nobody@example.com"' in page
    response = owner_client.post(url, {"revoke": invitation.pk}, headers={"HX-Request": "true"})
    assert "Invitation revoked." in response.content.decode()
    assert not workspace.invitations.exists()


@pytest.mark.parametrize("value", ["abc", "١", "9" * 5000, ""])
def test_a_malformed_id_is_a_404(owner_client, url, value):
    assert owner_client.post(url, {"revoke": value}).status_code == 404
    assert owner_client.post(url, {"member": value, "remove": ""}).status_code == 404


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
def test_everyone_sees_the_list_but_only_owners_manage(
    client, url, workspace, user, other_user, role
):
    member = Membership.objects.create(workspace=workspace, user=other_user, role=role)
    invite(workspace=workspace, who="secret@example.com", role="editor", invited_by=user)
    client.force_login(other_user)
    page = client.get(url).content.decode()
    assert "hamlet" in page and "cordelia" in page and 'name="invite"' not in page
    assert "secret@example.com" not in page  # pending invitations: owners only
    response = client.post(url, {"member": member.pk, "role": "owner"})
    assert response.status_code == 403
    assert "Only the workspace's owners can manage its members." in unescape(response.text)
    member.refresh_from_db()
    assert member.role == role


def test_a_stranger_gets_404(client, url, other_user):
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"invite": "", "who": "cordelia", "role": "owner"}).status_code == 404
    assert not Invitation.objects.exists()


def test_an_answer_that_is_neither_accept_nor_decline_is_a_400(client, workspace, user, other_user):
    invitation = invite(workspace=workspace, who="cordelia", role="owner", invited_by=user)
    client.force_login(other_user)
    assert client.post(f"/invitations/{invitation.pk}/").status_code == 400
    assert Invitation.objects.pending().get() == invitation
