"""Grounding in a real browser, in English and Chinese: a template with a knowledge variable
says what it draws on, Generate (the offline simulator) lists the passages it was given under
the text, and a citation marker opens its passage's popover (quoted text, source and version,
a link to the source); an unknown marker is flagged."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from drafts.models import Draft
from tests.browser.conftest import log_in
from tests.drafts.grounding_helpers import LUMEN, add_text, grounded_template

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("language", "generate", "topic", "quote", "close"),
    [
        ("en", "Generate", "battery life hours", "Battery life is 40 hours", "Close"),
        ("zh-hans", "生成", "台灯怎么调光", "支持无级调光", "关闭"),
    ],
)
def test_generate_with_grounding_and_open_a_citation(
    page: Page, studio_url, user, workspace, language, generate, topic, quote, close
):
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    grounded_template(workspace, tags=["lumen"])
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}{workspace.get_absolute_url()}")
    expect(page.locator("[data-grounding-note]")).to_contain_text("lumen")
    page.locator("[name=topic]").fill(topic)
    page.get_by_role("button", name=generate, exact=True).click()

    # The final panel lists the passages the prompt gave, numbered.
    sources = page.locator("#draft-body [data-sources]")
    expect(sources).to_contain_text("Lumen lamp product sheet (v1)", timeout=30_000)
    expect(sources.locator("li").first).to_contain_text("[1]")
    draft = Draft.objects.get(workspace=workspace)

    # A writer cites passage 1 by hand (and a number no passage has): the edited version
    # cites the generation it was written from.
    page.goto(f"{studio_url}/drafts/{draft.pk}/edit/")
    state = page.locator("#save-state")
    page.locator("#editor-text").fill("The lamp does it, as its sheet says [1]. Also [9].")
    expect(state).not_to_have_attribute("data-state", "saved")
    page.locator("#editor-text").press("Control+s")
    expect(state).to_have_attribute("data-state", "saved")
    page.goto(f"{studio_url}{draft.get_absolute_url()}")

    marker = page.locator("#draft-body button.citation", has_text="[1]")
    expect(marker).to_be_visible()
    marker.click()
    popover = page.locator("[data-citation-popover='1']")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(quote)
    expect(popover).to_contain_text("Lumen lamp product sheet (v1)")
    expect(popover.locator("[data-open-source]")).to_have_attribute(
        "href", re.compile(r"/knowledge/.*#passage-\d+$")
    )
    popover.get_by_role("button", name=close, exact=True).click()
    expect(popover).to_be_hidden()
    expect(page.locator("#draft-body [data-citation-unknown='9']")).to_be_visible()
    expect(page.locator("#draft-body button.citation")).to_have_count(1)
