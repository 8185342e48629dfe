"""Accounts in a real browser, in both languages: an owner invites an email address, its
reader signs up through the emailed link and joins, signs in again, and resets a forgotten
password; and a draft moved to the trash is restored from it. The emails are read from
Django's test outbox (the locmem backend), the links in them opened as a reader would."""

import re

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from drafts.actions import add_version
from drafts.models import Draft
from studio.workspaces.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)
LANGUAGES = ["en", "zh-hans"]
NEW_PASSWORD = "Lantern-over-Elsinore-77"
RESET_PASSWORD = "Second-lantern-Elsinore-88"


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _link_in(message, base_url: str) -> str:
    return re.search(rf"{re.escape(base_url)}/\S+", message.body)[0]


def _choose_language(page: Page, language: str) -> None:
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def _log_in(page: Page, language: str, username: str, password: str) -> None:
    page.get_by_label(_(language, "Username")).fill(username)
    page.get_by_label(_(language, "Password"), exact=True).fill(password)
    page.get_by_role("button", name=_(language, "Log in")).click()


def _log_out(page: Page, language: str) -> None:
    page.locator("[data-menu] summary").click()
    page.get_by_role("button", name=_(language, "Log out")).click()
    expect(page.get_by_role("button", name=_(language, "Log in"))).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_invite_by_email_sign_up_sign_in_and_reset_the_password(
    page: Page, studio_url, user, workspace, language
):
    page.goto(f"{studio_url}/accounts/login/")
    _choose_language(page, language)
    _log_in(page, language, "hamlet", "pw-hamlet-123")
    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")  # the workspace they created

    # The owner invites an address that has no account.
    page.goto(f"{studio_url}/w/{workspace.pk}/members/")
    page.get_by_label(_(language, "Username or email")).fill("laertes@example.com")
    page.locator("#member-list select[name=role]").last.select_option("reviewer")
    page.get_by_role("button", name=_(language, "Invite"), exact=True).click()
    invited = _(language, "If an account with that name or email exists, it has been invited.")
    expect(page.locator("#member-list")).to_contain_text(invited)
    assert [m.to for m in mail.outbox] == [["laertes@example.com"]]
    link = _link_in(mail.outbox[0], studio_url)
    _log_out(page, language)

    # Its reader opens the link, creates an account and is in the workspace.
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Marketing")
    page.get_by_label(_(language, "Username")).fill("laertes")
    page.get_by_label(_(language, "Password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_label(_(language, "Password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name=_(language, "Create account and join")).click()
    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")
    joined = _(language, "You joined %(name)s.") % {"name": "Marketing"}
    expect(page.get_by_text(joined)).to_be_visible()
    assert Membership.objects.get(user__username="laertes").role == "reviewer"

    # Signed out, they sign in with the new account.
    _log_out(page, language)
    _log_in(page, language, "laertes", NEW_PASSWORD)
    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")  # the workspace they joined

    # …and, having forgotten the password, reset it from the login page.
    _log_out(page, language)
    page.get_by_role("link", name=_(language, "Forgot password?")).click()
    page.get_by_label(_(language, "Email")).fill("laertes@example.com")
    page.get_by_role("button", name=_(language, "Send the link")).click()
    expect(page.locator("h1")).to_have_text(_(language, "Check your email"))
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["laertes@example.com"]
    page.goto(_link_in(mail.outbox[1], studio_url))
    page.get_by_label(_(language, "New password"), exact=True).fill(RESET_PASSWORD)
    page.get_by_label(_(language, "New password confirmation")).fill(RESET_PASSWORD)
    page.get_by_role("button", name=_(language, "Change my password")).click()
    expect(page.locator("h1")).to_have_text(_(language, "Password changed"))
    page.get_by_role("link", name=_(language, "Log in")).click()
    _log_in(page, language, "laertes", RESET_PASSWORD)
    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_deleted_draft_waits_in_the_trash_and_is_restored(
    page: Page, studio_url, user, workspace, language
):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="edited", author_id=user.pk)
    page.goto(f"{studio_url}/accounts/login/")
    _choose_language(page, language)
    _log_in(page, language, "hamlet", "pw-hamlet-123")
    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")  # the workspace they created

    page.goto(f"{studio_url}/w/{workspace.pk}/drafts/")
    choose = _(language, "Choose %(title)s") % {"title": "Aurora launch"}
    page.get_by_label(choose).check()
    page.get_by_role("button", name=_(language, "Move to trash")).click()
    with translation.override(language):
        moved = translation.ngettext(
            "%(n)s draft moved to the trash.", "%(n)s drafts moved to the trash.", 1
        ) % {"n": 1}
    expect(page.locator("#draft-results")).to_contain_text(moved)
    expect(page.locator(f"[data-draft='{draft.pk}']")).to_have_count(0)

    page.get_by_role("link", name=_(language, "Trash"), exact=True).click()
    row = page.locator(f"[data-trashed='{draft.pk}']")
    expect(row).to_contain_text("Aurora launch")
    row.get_by_role("button", name=_(language, "Restore")).click()
    restored = _(language, "“%(title)s” restored.") % {"title": "Aurora launch"}
    expect(page.locator("#trash-list")).to_contain_text(restored)
    expect(page.locator("#trash-list")).to_contain_text(_(language, "The trash is empty."))
    assert Draft.objects.alive().filter(pk=draft.pk).exists()

    page.goto(f"{studio_url}/w/{workspace.pk}/drafts/")
    expect(page.locator(f"[data-draft='{draft.pk}']")).to_contain_text("Aurora launch")
