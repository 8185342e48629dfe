"""DeepSeek failures as an editor meets them in a real browser, in English and Chinese: a 429
with Retry-After says when to try again (not "Wait a moment"), in the editor's language."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, demo_templates, settings):
    settings.DEEPSEEK_RETRY_ATTEMPTS = 1  # the simulator's 429 reaches the editor at once
    return workspace


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_rate_limited_generation_says_when_to_try_again(page: Page, studio_url, ready, language):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#template-picker").select_option(label="Product description")
    expect(page.get_by_label("Key features")).to_be_visible()
    page.get_by_label("Product name").fill("Aurora desk lamp")
    page.get_by_label("Key features").fill("Warm light [[sim:error=429]] [[sim:retry_after=2]]")
    with translation.override(language):
        generate = translation.gettext("Generate")
        failed = translation.gettext("Failed")
        when = translation.ngettext(
            "DeepSeek is receiving too many requests from this account right now. "
            "Try again in %(count)d second.",
            "DeepSeek is receiving too many requests from this account right now. "
            "Try again in %(count)d seconds.",
            2,
        ) % {"count": 2}

    page.get_by_role("button", name=generate, exact=True).click()

    expect(page.locator("[data-status]")).to_have_text(failed, timeout=20_000)
    notice = page.locator("#draft-panel [role=status]").first
    expect(notice).to_contain_text(when)
    expect(notice).not_to_contain_text("Wait a moment")
    if language != "en":
        expect(notice).not_to_contain_text("Try again")
