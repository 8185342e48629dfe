"""Markdown formatted while it streams: headings and lists show formatted before the end, and
the final panel shows exactly the text that was shown (no jump), in English and Chinese."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import draft_text, log_in, release_held_streams

pytestmark = pytest.mark.django_db(transaction=True)

# Kept by studio.js's listeners' order: this one runs before the "done" swap, so it reads the
# streamed panel as it stood at the end.
KEEP_SHOWN = """() => document.addEventListener("htmx:sseBeforeMessage", (event) => {
  if (event.detail.type !== "done") return;
  const stream = document.querySelector("#stream-text");
  window.shownAtEnd = stream ? stream.innerText : null;
})"""


@pytest.fixture
def ready(user, workspace, demo_templates):
    return workspace


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(
    ("language", "generate", "product", "features"),
    [
        ("en", "Generate", "Aurora desk lamp", "Warm light"),
        ("zh-hans", "生成", "极光台灯", "暖光，USB-C 充电"),
    ],
)
def test_headings_and_lists_are_formatted_before_the_end_which_changes_nothing(
    page: Page, studio_url, simulator_url, ready, language, generate, product, features
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.locator("#template-picker")).to_be_visible()
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#template-picker").select_option(label="Product description")
    expect(page.locator("[name=features]")).to_be_visible()
    page.locator("[name=product_name]").fill(product)
    # The heading and the first list item are done by the ~70th token (English and Chinese):
    # the simulator holds the stream live after 120 until the checks below are made.
    page.locator("[name=features]").fill(f"{features} [[sim:tokens=160]] [[sim:hold_after=120]]")
    page.evaluate(KEEP_SHOWN)

    page.get_by_role("button", name=generate, exact=True).click()

    # While it streams (the live panel, with its Stop button), finished blocks are HTML.
    live = page.locator("#stream-text")
    blocks = live.locator("[data-stream-blocks]")
    expect(blocks.locator("h2").first).to_be_visible()
    expect(blocks.locator("li").first).to_be_visible()
    assert live.count() == 1  # still live: "done" has not replaced the panel yet
    expect(blocks.locator("script, img, iframe")).to_have_count(0)
    assert "##" not in blocks.inner_text() and "**" not in blocks.inner_text()
    release_held_streams(simulator_url)

    # The end swaps in the final panel: the same text as was shown, formatted the same way.
    body = page.locator("#draft-body")
    expect(body.locator("h2")).to_be_visible(timeout=30_000)
    expect(live).to_have_count(0)
    shown = page.evaluate("window.shownAtEnd")
    assert shown and "##" not in shown
    assert words(shown) == words(draft_text(page))
    if language != "en":
        assert re.search(r"[\u4e00-\u9fff]", shown)
