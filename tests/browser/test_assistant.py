"""The assistant panel in a real browser, in English and in Chinese: ask, watch the answer
stream in, clear. The finished answer arrives at the end of the stream, rendered by the SSE
view for its viewer: in their language (the page fixture fails on any console error)."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from drafts.actions import add_version
from drafts.models import Draft
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "zh-hans"]
# The answer is checked while it is written, and the question carries no [[sim:hold_after]]
# (it is shown as asked): a paced stream, not the other browser tests' 400 tokens a second,
# at which the whole answer could end before the panel's stream showed any of it.
SIMULATOR_TOKENS_PER_SECOND = 100


def _(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def draft(user, workspace):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


@pytest.mark.parametrize("language", LANGUAGES)
def test_ask_streams_an_answer_in_the_viewers_language_and_clear_forgets_it(
    page: Page, studio_url, draft, language
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{draft.pk}/")
    page.locator("#language-switcher").select_option(language)  # the real switcher, once
    expect(page.locator("html")).to_have_attribute("lang", language)
    panel = page.locator("#assistant-panel")
    panel.get_by_label(_(language, "Your question")).fill("Is the headline clear?")

    panel.get_by_role("button", name=_(language, "Ask")).click()

    # The question at once, then the answer while it is written, then the final answer.
    expect(panel.locator("[data-role=user]")).to_have_text(
        f"{_(language, 'You')} Is the headline clear?"
    )
    expect(panel.locator("[data-streaming] [data-stream]")).not_to_be_empty()
    finished = panel.locator("[data-role=assistant]:not([data-streaming])")
    expect(finished.locator(".prose")).not_to_be_empty(timeout=20_000)
    expect(panel.locator("[data-streaming]")).to_have_count(0)
    # What arrived at the end of the stream speaks the viewer's language.
    expect(finished.locator(":scope > span")).to_have_text(_(language, "Assistant"))
    if language != "en":
        assert _(language, "Assistant") != "Assistant"  # a translation, not the fallback
        expect(finished).not_to_contain_text("Assistant")

    page.reload()  # kept on the server
    expect(page.locator("#assistant-panel [data-role=user]")).to_have_count(1)

    clear = _(language, "Clear conversation")
    page.locator("#assistant-panel").get_by_role("button", name=clear).click()
    expect(page.locator("#assistant-panel")).to_contain_text(
        _(language, "No questions yet: ask what is unclear, missing or too long.")
    )
