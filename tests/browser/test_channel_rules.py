"""The workspace's channel rules in a real browser, in English and Chinese: an owner opens
them from the campaigns list, a refused value comes back in the channel's row with its
message, a valid one overrides the built-in rules (the row alone swaps), the campaign's
check follows, and the row goes back to the built-in rules."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from drafts import generation as runner
from tests.browser.conftest import log_in
from tests.campaigning import written_headlines

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "rules": "Channel rules",
        "save": "Save",
        "reset": "Back to the built-in rules",
        "list_error": "This channel is a list: it takes 2 to 50 items.",
        "saved": "20 characters · up to 15 items · no emoji",
        "built_in": "30 characters · up to 15 items · no emoji",
        "too_long": "22 of 20: 2 too long.",
    },
    "zh-hans": {
        "rules": "渠道规则",
        "save": "保存",
        "reset": "恢复内置规则",
        "list_error": "这是列表渠道：可有 2 到 50 条。",
        "saved": "20 个字符 · 最多 15 条 · 不允许表情符号",
        "built_in": "30 个字符 · 最多 15 条 · 不允许表情符号",
        "too_long": None,  # the check's words are the campaigns' own (tested in test_labels)
    },
}


@pytest.fixture
def campaign(studio_url, monkeypatch, user, workspace, demo_templates):
    monkeypatch.setattr(runner, "launch", lambda generation_id: None)  # stored, not run
    return written_headlines(
        workspace=workspace,
        user=user,
        templates=demo_templates,
        text="- Light that follows you\n- Read all night, warmly\n- Warm",
        title="Lumen launch",
        product="Lumen lamp",
        key_message="Warm light",
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_owner_overrides_a_channel_and_resets_it(page: Page, studio_url, campaign, language):
    w = WORDS[language]
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}/w/{campaign.workspace_id}/campaigns/")
    page.get_by_role("link", name=w["rules"]).click()
    expect(page.get_by_role("heading", name=w["rules"], level=1)).to_be_visible()

    row = page.locator('[data-channel="google_ads_headline"]')
    expect(row.locator("[data-effective]")).to_have_text(w["built_in"])
    row.locator('input[name="google_ads_headline-limit"]').fill("20")
    row.locator('input[name="google_ads_headline-max_items"]').fill("1")
    row.get_by_role("button", name=w["save"]).click()
    row = page.locator('[data-channel="google_ads_headline"]')
    expect(row.locator("[data-error]")).to_have_text(w["list_error"])
    expect(row.locator('input[name="google_ads_headline-max_items"]')).to_have_attribute(
        "aria-invalid", "true"
    )
    row.locator('input[name="google_ads_headline-max_items"]').fill("15")
    row.get_by_role("button", name=w["save"]).click()
    row = page.locator('[data-channel="google_ads_headline"]')
    expect(row.locator("[data-overridden]")).to_be_visible()
    expect(row.locator("[data-effective]")).to_have_text(w["saved"])
    expect(page.locator("[data-overridden]")).to_have_count(1)  # the other rows untouched

    page.goto(f"{studio_url}{campaign.get_absolute_url()}")
    expect(page.locator("[data-counter]").first).to_have_text("22/20")
    if w["too_long"]:
        expect(page.locator("[data-violation]").first).to_have_text(w["too_long"])

    page.go_back()
    row = page.locator('[data-channel="google_ads_headline"]')
    row.get_by_role("button", name=w["reset"]).click()
    row = page.locator('[data-channel="google_ads_headline"]')
    expect(row.locator("[data-overridden]")).to_have_count(0)
    expect(row.locator("[data-effective]")).to_have_text(w["built_in"])
