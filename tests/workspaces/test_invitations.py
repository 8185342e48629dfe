"""Invitations by email: the signed link, sign-up and join, acceptance signed in, expiry, and
the same answers for every address (studio/workspaces/invitations.py, actions.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.workspaces.actions import accept_invitation, invite
from studio.workspaces.models import Invitation, Membership

PASSWORD = "a-Fresh-pass-5150"


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


def _invite(client, workspace, who, role="editor", capture=None):
    url = reverse("members", args=[workspace.pk])
    with capture(execute=True):
        return client.post(url, {"invite": "", "who": who, "role": role})


def _link(message) -> str:
    return re.search(r"http://testserver(/invitations/join/\S+/)", message.body)[1]


def test_inviting_an_address_without_an_account_emails_a_link(
    owner_client, workspace, django_capture_on_commit_callbacks
):
    _invite(
        owner_client, workspace, "laertes@example.com", capture=django_capture_on_commit_callbacks
    )

    invitation = Invitation.objects.get(sent_to="laertes@example.com")
    assert invitation.invitee is None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["laertes@example.com"]
    assert "Marketing" in mail.outbox[0].subject
    assert "hamlet invites you to join the workspace Marketing" in mail.outbox[0].body
    # The link's token names this invitation (a token signed now would carry another second).
    token = _link(mail.outbox[0]).removeprefix("/invitations/join/").strip("/")
    assert Invitation.objects.by_token(token) == invitation


def test_the_link_creates_an_account_that_joins_with_the_role(
    owner_client, workspace, django_capture_on_commit_callbacks
):
    _invite(
        owner_client, workspace, "laertes@example.com", "reviewer",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    link = _link(mail.outbox[0])
    visitor = Client()
    page = visitor.get(link).content.decode()
    assert "Create your account" in page and "laertes@example.com" in page

    response = visitor.post(
        link, {"username": "laertes", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302 and response["Location"] == workspace.get_absolute_url()
    laertes = get_user_model().objects.get(username="laertes")
    assert laertes.email == "laertes@example.com" and laertes.check_password(PASSWORD)
    assert Membership.objects.get(user=laertes, workspace=workspace).role == "reviewer"
    assert visitor.get(workspace.get_absolute_url()).status_code == 200  # signed in
    assert Invitation.objects.get(sent_to="laertes@example.com").accepted_at is not None
    assert Client().get(link).status_code == 404  # used up


def test_a_bad_sign_up_shows_the_errors_and_makes_nothing(
    owner_client, workspace, user, django_capture_on_commit_callbacks
):
    _invite(
        owner_client, workspace, "laertes@example.com", capture=django_capture_on_commit_callbacks
    )
    link = _link(mail.outbox[0])
    taken = Client().post(
        link, {"username": "hamlet", "password1": PASSWORD, "password2": PASSWORD}
    )
    short = Client().post(link, {"username": "laertes", "password1": "abc", "password2": "abc"})
    assert taken.status_code == short.status_code == 200
    assert "already exists" in taken.content.decode()
    assert "too short" in short.content.decode()
    assert not get_user_model().objects.filter(username="laertes").exists()
    assert Invitation.objects.get(sent_to="laertes@example.com").accepted_at is None


def test_an_existing_account_is_emailed_too_and_accepts_signed_in(
    owner_client, workspace, other_user, django_capture_on_commit_callbacks
):
    other_user.email = "cordelia@example.com"
    other_user.save()
    _invite(
        owner_client, workspace, "cordelia@example.com", capture=django_capture_on_commit_callbacks
    )
    link = _link(mail.outbox[0])
    anonymous = Client().get(link).content.decode()
    assert "Log in to accept" in anonymous and "Create your account" not in anonymous

    cordelia = Client()
    cordelia.force_login(other_user)
    assert "Accept as cordelia" in cordelia.get(link).content.decode()
    # …and the invitation waits on her invitations page as before.
    assert "Marketing" in cordelia.get(reverse("invitations")).content.decode()
    assert cordelia.post(link, {"accept": ""}).status_code == 302
    assert Membership.objects.filter(user=other_user, workspace=workspace).exists()


def test_a_link_naming_another_account_cannot_be_accepted_by_the_reader(
    owner_client, workspace, other_user, django_user_model, django_capture_on_commit_callbacks
):
    other_user.email = "cordelia@example.com"
    other_user.save()
    _invite(
        owner_client, workspace, "cordelia@example.com", capture=django_capture_on_commit_callbacks
    )
    intruder = Client()
    intruder.force_login(django_user_model.objects.create_user("iago"))
    link = _link(mail.outbox[0])
    assert "for another account" in intruder.get(link).content.decode()
    intruder.post(link, {"accept": ""})
    assert not Membership.objects.filter(workspace=workspace, user__username="iago").exists()


def test_a_signed_in_reader_of_a_link_without_an_account_may_accept_it(
    owner_client, workspace, other_user, django_capture_on_commit_callbacks
):
    _invite(
        owner_client, workspace, "someone@example.com", capture=django_capture_on_commit_callbacks
    )
    cordelia = Client()
    cordelia.force_login(other_user)
    cordelia.post(_link(mail.outbox[0]), {"accept": ""})
    invitation = Invitation.objects.get(sent_to="someone@example.com")
    assert invitation.invitee == other_user and invitation.accepted_at is not None


def test_a_username_invitation_sends_no_email(owner_client, workspace, other_user,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    _invite(owner_client, workspace, "cordelia", capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_the_owners_answer_is_the_same_for_any_address(
    owner_client, workspace, other_user, django_capture_on_commit_callbacks
):
    other_user.email = "cordelia@example.com"
    other_user.save()
    pages = [
        _invite(owner_client, workspace, who, capture=django_capture_on_commit_callbacks)
        for who in ("cordelia@example.com", "nobody@example.com")
    ]
    assert pages[0].status_code == pages[1].status_code == 302
    assert len(mail.outbox) == 2  # both addresses get a link


@pytest.mark.parametrize("token", ["x", "1:abc", "WzEsMl0:forged"])
def test_a_forged_token_is_a_404(client, token):
    response = client.get(reverse("invitation_join", args=[token]))
    assert response.status_code == 404 and "does not work" in response.content.decode()


def test_invitations_expire(workspace, user, other_user, settings):
    invitation = invite(workspace=workspace, who="cordelia", role="editor", invited_by=user)
    expected = timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    assert abs(invitation.expires_at - expected) < timedelta(minutes=1)
    link = invitation.get_join_url()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())

    assert not Invitation.objects.for_invitee(other_user).pending().exists()
    assert Client().get(link).status_code == 404
    with pytest.raises(Invitation.DoesNotExist):
        accept_invitation(invitation=invitation)
    # Inviting again renews it (a new link: the old one stays dead).
    renewed = invite(workspace=workspace, who="cordelia", role="reviewer", invited_by=user)
    assert renewed.pk == invitation.pk and not renewed.is_expired
    assert Invitation.objects.by_token(renewed.token()) == renewed
    assert Client().get(link).status_code == 404


def test_an_expired_invitation_is_marked_on_the_members_page(owner_client, workspace, user):
    invitation = invite(workspace=workspace, who="ophelia", role="editor", invited_by=user)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    page = owner_client.get(reverse("members", args=[workspace.pk])).content.decode()
    assert "Expired: invite again to renew it." in page


def test_the_admin_lists_invitations(client, workspace, user):
    invite(workspace=workspace, who="someone@example.com", role="editor", invited_by=user)
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    page = client.get("/admin/workspaces/invitation/").content.decode()
    assert "someone@example.com" in page
