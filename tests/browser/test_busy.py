"""A database too busy to wait for, in a real browser (studio/busy.py): Generate answers 503
and the page says so in a toast, in the viewer's language, the filled-in form as it was;
pressed again once the database has room, it generates.

The database is really full for the one press (tests/busy_database.py): every pooled
connection lent out on PostgreSQL, the write lock held on SQLite."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.busy_database import database_full

pytestmark = pytest.mark.django_db(transaction=True)
# The press while the database is full is meant to be refused: that 503 is no test failure.
EXPECTED_HTTP_ERRORS = {503}
BUSY = {
    "en": "The studio is too busy to take this request right now. Nothing you typed is lost",
    "zh-hans": "工作室现在太忙，无法处理这个请求。你输入的内容都还在",
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_generate_on_a_busy_database_says_so_and_keeps_the_form(
    page: Page, studio_url, user, workspace, demo_templates, language
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.get_by_label("Language", exact=True).select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    with translation.override(language):
        template, generate, done = (
            translation.gettext(text) for text in ("Template", "Generate", "Done")
        )
    page.get_by_label(template).select_option(label="Product description")
    expect(page.get_by_label("Key features")).to_be_visible()  # the template's form is in
    page.get_by_label("Product name").fill("Aurora desk lamp")
    page.get_by_label("Key features").fill("Warm light\nUSB-C charging")
    button = page.get_by_role("button", name=generate, exact=True)

    with (
        database_full(),
        page.expect_response(lambda r: r.url.endswith("/generate/")) as refused,
    ):
        button.click()

    assert refused.value.status == 503 and refused.value.headers["retry-after"] == "5"
    toast = page.locator("#toasts [role=alert]")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text(BUSY[language])
    # In place: the filled-in form is untouched and the button ready for the next press.
    expect(page.get_by_label("Product name")).to_have_value("Aurora desk lamp")
    expect(page.get_by_label("Key features")).to_have_value("Warm light\nUSB-C charging")
    expect(button).to_be_enabled()

    button.click()
    expect(page.locator("[data-status]")).to_have_text(done, timeout=20_000)
    expect(page.locator("#draft-body")).not_to_be_empty()
