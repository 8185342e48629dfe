"""Over the rate limit in a real browser: Generate answers 429 and the page says so in place.

The limit for ``drafts:generate`` is lowered to one an hour for this test through the
settings the uvicorn-served studio reads on every request (RATELIMIT_ROUTES). An hour, not a
minute: django-ratelimit's windows are fixed, and a minute's could end between the clicks.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_generate_flow import fill_product_form

pytestmark = pytest.mark.django_db(transaction=True)
# The second Generate is meant to be refused: that 429 is no test failure.
EXPECTED_HTTP_ERRORS = {429}


@pytest.fixture
def one_generation_a_minute(settings, user, workspace, demo_templates):
    settings.RATELIMIT_ROUTES = {"drafts:generate": "1/h"}
    return workspace


def test_a_second_generate_over_the_limit_shows_a_friendly_toast(
    page: Page, studio_url, one_generation_a_minute
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    fill_product_form(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("[data-status]")).to_have_text("Done", timeout=20_000)
    first = page.locator("#draft-body").inner_text()

    with page.expect_response(lambda r: r.url.endswith("/generate/")) as refused:
        page.get_by_role("button", name="Generate", exact=True).click()

    assert refused.value.status == 429 and refused.value.headers["retry-after"].isdigit()
    toast = page.locator("#toasts [role=alert]")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("Too many requests (limit per user).")
    expect(toast).to_contain_text("seconds and try again")
    # In place: the draft on screen and the filled-in form are untouched.
    expect(page.locator("#draft-body")).to_have_text(first)
    expect(page.get_by_label("Product name")).to_have_value("Aurora desk lamp")
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_enabled()
