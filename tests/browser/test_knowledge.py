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
