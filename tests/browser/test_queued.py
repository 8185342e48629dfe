"""Beyond a worker's limit (GENERATION_MAX_RUNNING) in a real browser: the second generation
shows its place in line, then streams once the first has ended."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_watching import (  # noqa: F401 — ready: the fixture
    generate,
    ready,
    speak,
    watch_for_problems,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("language", "queued_label"),
    [("en", "Queued (1 ahead)"), ("zh-hans", "排队中（前面还有 1 个）")],
)
def test_a_generation_beyond_the_limit_says_queued_then_streams(
    language: str,
    queued_label: str,
    page: Page,
    browser,
    studio_url,
    ready,  # noqa: F811 — the fixture
    settings,
):
    settings.GENERATION_MAX_RUNNING = 1  # the live server shares the settings
    workspace_url = f"{studio_url}{ready.get_absolute_url()}"
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    generate(page, workspace_url, tokens=80, hold_after=40)  # held live until Stop
    expect(page.locator("#stream-text [data-stream-tail]")).not_to_be_empty()

    second = browser.new_context(locale="en-US").new_page()
    problems = watch_for_problems(second)
    log_in(second, studio_url, "hamlet", "pw-hamlet-123")
    speak(second, studio_url, language)  # the one who waits reads it in their language
    generate(second, workspace_url, tokens=20, hold_after=100)  # never held: 20 tokens

    queued = second.locator("#draft-panel [data-queued]")
    expect(queued).to_have_text(queued_label)
    generating = second.locator("#draft-panel [data-generating]")
    expect(generating).to_be_hidden()  # not "Generating…" while it waits
    expect(second.locator("#stream-text [data-stream-tail]")).to_be_empty()
    page.locator("[data-stop]").click()  # the first ends: the second's turn

    expect(queued).to_be_hidden()
    expect(second.locator("#version-list")).to_contain_text("v1", timeout=20_000)
    second.context.close()
    assert problems == []
