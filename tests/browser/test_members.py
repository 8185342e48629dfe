"""The members page in a real browser: an owner adds a reviewer and changes roles in place."""

import pytest
from playwright.sync_api import Page, expect

from studio.workspaces.models import Membership
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_adds_a_member_and_keeps_the_last_owner(
    page: Page, studio_url, user, other_user, workspace
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/w/{workspace.pk}/members/")
    page.get_by_label("Username or email").fill("cordelia")
    page.locator("#member-list select[name=role]").last.select_option("reviewer")
    page.get_by_role("button", name="Add", exact=True).click()

    row = page.locator("[data-member=cordelia]")
    expect(row).to_be_visible()
    expect(page.locator("#member-list")).to_contain_text("cordelia joined.")
    assert Membership.objects.get(user=other_user).role == "reviewer"

    # The only owner cannot step down: the list says why, in place.
    me = page.locator("[data-member=hamlet]")
    me.get_by_label("Role of hamlet").select_option("editor")
    me.get_by_role("button", name="Change role").click()
    expect(page.locator("#member-list")).to_contain_text("keeps at least one owner")
    assert Membership.objects.get(user=user).role == "owner"
