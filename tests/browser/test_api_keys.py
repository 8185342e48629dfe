"""Settings → API keys in a real browser: the Create key button itself, in both languages."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from studio.api.models import ApiKey
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_clicking_create_key_shows_the_new_key_once(page: Page, studio_url, user, language):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/settings/api-keys/")
    page.get_by_label("Language", exact=True).select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    with translation.override(language):
        name, create = translation.gettext("Name"), translation.gettext("Create key")

    page.get_by_label(name).fill("CMS sync")  # crispy marks it required: "Name*"
    page.get_by_role("button", name=create).click()  # a click, not Enter in the field

    secret = page.locator("[data-new-key]")
    expect(secret).to_have_value(re.compile(r"^dss_\w+_"))
    assert secret.input_value().startswith(f"dss_{ApiKey.objects.get().prefix}_")
    expect(page.locator("#api-keys")).to_contain_text("CMS sync")
    page.goto(f"{studio_url}/settings/api-keys/")
    expect(page.locator("[data-new-key]")).to_have_count(0)  # shown once only
