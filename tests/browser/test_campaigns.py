"""Campaigns in a real browser: write a brief, add deliverables, Generate all, open each
deliverable's draft as it streams, and see each item counted against its channel; then the
same page in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, demo_templates):
    return workspace


def add_deliverable(page: Page, template: str, channel: str, items: str) -> None:
    page.get_by_label("Template").select_option(label=template)
    page.get_by_label("Channel").select_option(label=channel)
    page.get_by_label("Items").fill(items)
    page.get_by_role("button", name="Add deliverable").click()


def test_a_brief_becomes_every_deliverables_draft(page: Page, studio_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title").fill("Lumen lamp launch")
    page.get_by_label("Product").fill("Lumen lamp")
    page.get_by_label("Audience").fill("night readers")
    page.get_by_label("Offer").fill("20% off in launch week")
    page.get_by_label("Key message").fill("Warm light that lasts all night")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name="Lumen lamp launch", level=1)).to_be_visible()

    add_deliverable(page, "Ad headline set", "Google Ads headline", "10")
    add_deliverable(page, "Marketing email", "Email", "1")
    deliverables = page.locator("[data-deliverable]")
    expect(deliverables).to_have_count(2)
    expect(deliverables.first).to_contain_text("Google Ads headline ×10")

    page.get_by_role("button", name="Generate all").click()
    expect(page.get_by_text("Generating 2 deliverables.")).to_be_visible()
    expect(page.locator("[data-draft-link]")).to_have_count(2)
    # The list follows the streams by itself (it polls while any deliverable is generating):
    # the counters appear as the copy arrives, and the polling stops once both are done.
    headlines = deliverables.first
    expect(page.locator("[data-polling]")).to_have_count(0, timeout=30_000)
    expect(deliverables.locator('[data-status="done"]')).to_have_count(2)
    expect(headlines.locator("[data-item]")).to_have_count(10)  # the asked count, each checked
    expect(headlines.locator("[data-counter]").first).to_contain_text("/30")

    headlines.locator("[data-draft-link]").click()  # the deliverable's own draft
    expect(page.locator("[data-status]")).to_have_text("Done")
    page.go_back()

    page.locator("#language-switcher").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="全部生成")).to_be_visible()
    expect(deliverables.first).to_contain_text("Google Ads 标题 ×10")
