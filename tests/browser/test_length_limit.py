"""An answer cut at max_tokens: the panel says so and Continue picks it up, in both languages."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import draft_text, log_in
from tests.browser.test_generate_flow import fill_product_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, demo_templates, settings):
    settings.DEEPSEEK_MAX_TOKENS = 40  # the simulator's answers are longer: cut, "length"
    return workspace


def test_a_length_cut_answer_says_so_and_continues(page: Page, studio_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    fill_product_form(page)

    page.get_by_role("button", name="Generate").click()

    notice = page.locator("[data-length-cut]")
    expect(notice).to_contain_text("Stopped at the length limit (max_tokens 40)", timeout=20_000)
    expect(page.locator("[data-status]")).to_have_text("Stopped at the length limit")  # not Done
    first = draft_text(page)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#version-list")).to_contain_text("v2 · Continued", timeout=20_000)
    continued = draft_text(page)
    assert continued.startswith(first.rstrip()) and len(continued) > len(first)


def test_the_length_notice_and_continue_are_chinese_in_the_chinese_ui(
    page: Page, studio_url, ready
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    page.get_by_label("Language", exact=True).select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_label("模板").select_option(label="Product description")
    expect(page.get_by_label("Key features")).to_be_visible()
    page.get_by_label("Product name").fill("Aurora desk lamp")
    page.get_by_label("Key features").fill("Warm light")

    page.get_by_role("button", name="生成", exact=True).click()

    notice = page.locator("[data-length-cut]")
    expect(notice).to_contain_text("已达到长度上限（max_tokens 40）", timeout=20_000)
    expect(page.locator("[data-status]")).to_have_text("已达到长度上限")  # not 完成 (Done)
    first = draft_text(page)
    page.get_by_role("button", name="继续生成", exact=True).click()
    with translation.override("zh-hans"):
        continued = translation.gettext("Continued")
    assert continued != "Continued"
    expect(page.locator("#version-list")).to_contain_text(f"v2 · {continued}", timeout=20_000)
    assert draft_text(page).startswith(first.rstrip())
