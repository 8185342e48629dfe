"""Knowledge in a real browser: upload a Markdown file through the form, search it, see the
passage with the words highlighted; in English, then in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

SHEET = b"""# Lumen lamp

The Lumen is a desk lamp for studios.

## Battery

The battery lasts twelve hours at half brightness.
"""
SHEET_ZH = """# Lumen 台灯

## 亮度调节

Lumen 支持无级调光，手指在触控条上滑动即可改变亮度。
""".encode()


def upload(page: Page, name: str, data: bytes, button: str) -> None:
    page.locator("#id_file").set_input_files(
        {"name": name, "mimeType": "text/markdown", "buffer": data}
    )
    page.get_by_role("button", name=button).click()


def test_upload_search_and_see_the_highlighted_passage(page: Page, studio_url, workspace):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/w/{workspace.pk}/")
    page.get_by_role("link", name="Knowledge", exact=True).first.click()
    page.get_by_role("link", name="Add a source").click()
    upload(page, "lumen.md", SHEET, "Add source")
    expect(page.get_by_role("heading", name="Lumen lamp", level=1)).to_be_visible()
    expect(page.get_by_text("The battery lasts twelve hours at half brightness.")).to_be_visible()

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Knowledge").click()
    page.get_by_role("searchbox").fill("battery life")
    page.get_by_role("button", name="Search", exact=True).click()
    result = page.locator("#results li").first
    expect(result.locator("mark").first).to_have_text("battery")
    expect(result).to_contain_text("Lumen lamp › Battery")
    result.get_by_role("link", name="Lumen lamp").click()
    expect(page.locator("li:target")).to_contain_text("twelve hours")

    page.locator("#language-switcher").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_role("navigation", name="面包屑导航").get_by_role("link", name="知识库").click()
    page.get_by_role("link", name="添加来源").click()
    upload(page, "lumen-zh.md", SHEET_ZH, "添加来源")
    expect(page.get_by_role("heading", name="Lumen 台灯", level=1)).to_be_visible()
    page.get_by_role("navigation", name="面包屑导航").get_by_role("link", name="知识库").click()
    page.get_by_role("searchbox").fill("怎么调光")
    page.get_by_role("button", name="搜索", exact=True).click()
    result = page.locator("#results li").first
    expect(result.locator("mark").first).to_have_text("调光")
    expect(result).to_contain_text("Lumen 台灯 › 亮度调节")


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
