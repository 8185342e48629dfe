"""The members page in a real browser: an owner invites a reviewer, who accepts it; the last
owner cannot step down."""

import pytest
from playwright.sync_api import Page, expect

from studio.workspaces.models import Membership
from tests.browser.conftest import log_in
from tests.browser.test_ui import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_invites_a_member_who_accepts_and_the_last_owner_stays(
    page: Page, studio_url, user, other_user, workspace
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/w/{workspace.pk}/members/")
    page.get_by_label("Username or email").fill("cordelia")
    page.locator("#member-list select[name=role]").last.select_option("reviewer")
    page.get_by_role("button", name="Invite", exact=True).click()

    members = page.locator("#member-list")
    expect(members).to_contain_text("If an account with that name or email exists")
    expect(page.locator("[data-invitation=cordelia]")).to_be_visible()
    expect(page.locator("[data-member=cordelia]")).to_have_count(0)  # not before she accepts
    assert not Membership.objects.filter(user=other_user).exists()
    assert not axe_violations(page)

    # The only owner cannot step down: the list says why, in place.
    me = page.locator("[data-member=hamlet]")
    me.get_by_label("Role of hamlet").select_option("editor")
    me.get_by_role("button", name="Change role").click()
    expect(members).to_contain_text("keeps at least one owner")
    assert Membership.objects.get(user=user).role == "owner"

    # Cordelia finds the invitation on her home page and accepts it.
    page.context.clear_cookies()
    log_in(page, studio_url, "cordelia", "pw-cordelia-123")
    invitation = page.locator("[data-invitation=Marketing]")
    expect(invitation).to_contain_text("hamlet invites you to join Marketing as Reviewer.")
    assert not axe_violations(page)
    invitation.get_by_role("button", name="Accept").click()

    page.wait_for_url(f"{studio_url}/w/{workspace.pk}/")
    expect(page.get_by_text("You joined Marketing.")).to_be_visible()
    assert Membership.objects.get(user=other_user).role == "reviewer"
