"""The assistant panel in a real browser: ask, watch the answer stream in, clear."""

import pytest
from playwright.sync_api import Page, expect

from drafts.actions import add_version
from drafts.models import Draft
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(user, workspace):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


def test_ask_streams_an_answer_and_clear_forgets_it(page: Page, studio_url, draft):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{draft.pk}/")
    panel = page.locator("#assistant-panel")
    panel.get_by_label("Your question").fill("Is the headline clear?")

    panel.get_by_role("button", name="Ask").click()

    # The question at once, then the answer while it is written, then the final answer.
    expect(panel.locator("[data-role=user]")).to_have_text("You Is the headline clear?")
    expect(panel.locator("[data-streaming] .stream-text")).not_to_be_empty()
    answer = panel.locator("[data-role=assistant]:not([data-streaming]) .prose")
    expect(answer).not_to_be_empty(timeout=20_000)
    expect(panel.locator("[data-streaming]")).to_have_count(0)

    page.reload()  # kept on the server
    expect(page.locator("#assistant-panel [data-role=user]")).to_have_count(1)

    page.locator("#assistant-panel").get_by_role("button", name="Clear conversation").click()
    expect(page.locator("#assistant-panel")).to_contain_text("No questions yet")
