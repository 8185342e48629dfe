"""Knowledge in a real browser: a long document is read in the background while its page shows
progress. (Upload, search with highlights and opening the source are in test_grounding.py's
whole-flow test, in English and Chinese.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_long_pdf_is_read_in_the_background_while_the_page_shows_progress(
    page: Page, studio_url, workspace
):
    """A PDF over KNOWLEDGE_BACKGROUND_PAGES: the upload answers at once with its progress
    page, which polls until the worker is done and then opens the source; a scanned one fails
    with the reason, in Chinese for a Chinese uploader, and nothing is stored."""
    from tests.browser.test_batches import run_worker_in_background
    from tests.prompts.knowledge.documents import blank_pdf, long_pdf

    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/w/{workspace.pk}/knowledge/new/")
    page.locator("#id_file").set_input_files(
        {"name": "manual.pdf", "mimeType": "application/pdf", "buffer": long_pdf(60)}
    )
    page.get_by_role("button", name="Add source").click()
    expect(page.locator("[data-status]")).to_have_text("Waiting for the background worker")
    expect(page.locator("#ingestion[data-polling]")).to_have_count(1)
    worker = run_worker_in_background()
    expect(page.locator('#ingestion[data-ingestion-status="done"]')).to_have_count(
        1, timeout=30_000
    )
    worker.join(timeout=30)
    expect(page.locator("[data-percent]")).to_contain_text("100%")
    expect(page.locator("#ingestion[data-polling]")).to_have_count(0)
    page.locator("[data-open-source]").click()
    expect(page.get_by_text("60 pages")).to_be_visible()

    page.locator("#language-switcher").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"{studio_url}/w/{workspace.pk}/knowledge/new/")
    page.locator("#id_file").set_input_files(
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": blank_pdf(25)}
    )
    page.get_by_role("button", name="添加来源").click()
    expect(page.locator("[data-status]")).to_have_text("等待后台任务处理")
    worker = run_worker_in_background()
    expect(page.locator('#ingestion[data-ingestion-status="failed"]')).to_have_count(
        1, timeout=30_000
    )
    worker.join(timeout=30)
    expect(page.locator("[data-error]")).to_contain_text("没有文字层")
    expect(page.get_by_text("此文档的任何内容都未保存。")).to_be_visible()
