"""Editing in a real browser: autosave, a conflict from a second tab, resolving it, and the
save that happens when the editor leaves the page."""

import time

import pytest
from playwright.sync_api import Browser, Page, expect

from drafts.actions import add_version
from drafts.models import Draft, DraftVersion
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(user, workspace):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


def wait_for_version(draft: Draft, number: int, timeout: float = 10) -> DraftVersion:
    """Poll the database with a deadline (a beacon has no response to wait on)."""
    deadline = time.monotonic() + timeout
    while (version := draft.versions.filter(number=number).first()) is None:
        assert time.monotonic() < deadline, f"version {number} never arrived"
        time.sleep(0.05)
    return version


def test_autosave_conflict_from_a_second_tab_and_resolving_it(
    page: Page, browser: Browser, studio_url, draft
):
    edit_url = f"{studio_url}/drafts/{draft.pk}/edit/"
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(edit_url)
    state = page.locator("#save-state")
    expect(state).to_have_text("Saved · version 1")

    # Typing, then a pause: autosaved as version 2, with the state shown as it goes.
    page.get_by_label("Text (Markdown)").fill("Bright light for late nights.")
    expect(state).to_have_attribute("data-state", "dirty")
    expect(state).to_have_text("Saved · version 2")

    # A second tab opens version 2 and saves version 3.
    other = browser.new_context(locale="en-US").new_page()
    log_in(other, studio_url, "hamlet", "pw-hamlet-123")
    other.goto(edit_url)
    other.get_by_label("Text (Markdown)").fill("Bright light for long nights.")
    expect(other.locator("#save-state")).to_have_text("Saved · version 3")

    # The first tab, still on version 2, types again: refused, both texts shown, text kept.
    mine = "Bright lamp for late nights, and mornings."
    page.get_by_label("Text (Markdown)").fill(mine)
    expect(state).to_have_text("Not saved — conflict")
    conflict = page.get_by_role("alert")
    expect(conflict).to_contain_text("A newer version was saved while you were editing")
    expect(conflict.locator("[data-theirs]")).to_have_text("Bright light for long nights.")
    expect(conflict.locator("[data-mine]")).to_have_text(mine)
    expect(conflict.locator("[data-mine] ins").first).to_have_text("lamp")
    expect(page.get_by_label("Text (Markdown)")).to_have_value(mine)
    assert draft.versions.count() == 3

    # Keep mine: saved on top, the other tab's version stays in the history.
    page.get_by_role("button", name="Save my text as the newest version").click()
    expect(state).to_have_text("Saved · version 4")
    expect(page.get_by_role("alert")).to_have_count(0)
    texts = list(draft.versions.order_by("number").values_list("text", flat=True))
    assert texts[2:] == ["Bright light for long nights.", mine]

    # Typing and leaving at once: the page saves on its way out.
    page.get_by_label("Text (Markdown)").fill(mine + " Last words.")
    page.get_by_role("link", name="Done").click()
    assert wait_for_version(draft, 5).text == mine + " Last words."
    other.context.close()


def test_copy_puts_the_versions_markdown_on_the_clipboard(browser: Browser, studio_url, draft):
    add_version(draft_id=draft.pk, text="# Aurora\n\n**Bright** light.", source="edited",
                author_id=draft.created_by_id)  # fmt: skip
    context = browser.new_context(locale="en-US", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{draft.pk}/")

    copy = page.locator("[data-copy='#draft-source']")
    copy.click()

    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "# Aurora\n\n**Bright** light."
    context.close()
