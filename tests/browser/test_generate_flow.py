"""The first slice in a real browser: log in, fill a template, watch the text stream in."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from drafts.models import Draft
from tests.browser.conftest import log_in, release_held_streams

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, demo_templates):
    return workspace


def fill_product_form(page: Page, features: str = "Warm light\nUSB-C charging") -> None:
    page.get_by_label("Template").select_option(label="Product description")
    # "Key features" is only in this template's form: wait for the swap before typing.
    expect(page.get_by_label("Key features")).to_be_visible()
    page.get_by_label("Product name").fill("Aurora desk lamp")
    page.get_by_label("Key features").fill(features)


def test_generate_streams_live_and_survives_a_reload(page: Page, studio_url, simulator_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    # Held live after 20 tokens until the live page has been checked.
    fill_product_form(page, "Warm light\nUSB-C charging [[sim:tokens=60]] [[sim:hold_after=20]]")
    recent = page.locator("#recent-drafts")
    expect(recent).to_contain_text("Your drafts will be listed here.")

    page.get_by_role("button", name="Generate").click()

    # While the model is still writing, text is already on the page and Stop is offered.
    stream = page.locator("#stream-text")
    expect(stream).not_to_be_empty()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(recent.locator("li")).to_have_count(1)  # listed at once, no reload
    release_held_streams(simulator_url)
    # Then the final event swaps in the rendered Markdown and the first version.
    body = page.locator("#draft-body")
    expect(body.locator("h2")).to_be_visible(timeout=20_000)
    expect(page.locator("#version-list")).to_contain_text("v1")
    expect(recent.locator("li")).to_contain_text("1 version")  # and its version counted
    expect(page.locator("[data-status]")).to_have_text("Done")
    expect(page.locator("[data-tokens]")).to_be_visible()
    text = body.inner_text()

    page.reload()

    expect(page.locator("#draft-body")).to_have_text(text)
    expect(page.locator("#version-list")).to_contain_text("v1")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_recent_drafts_put_a_new_draft_first_at_once_in_either_language(
    page: Page, studio_url, simulator_url, ready, user, language
):
    """With more than eight drafts already (the list once showed the eight oldest, oldest
    first, and never changed), a new draft tops Recent drafts as soon as it starts and shows
    its version when it ends, without a reload."""
    for n in range(1, 10):
        Draft.objects.create(workspace=ready, title=f"Older draft {n}", created_by=user)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    recent = page.locator("#recent-drafts [data-recent-drafts] li")
    expect(recent).to_have_count(8)
    expect(recent.first).to_contain_text("Older draft 9")  # the newest first
    expect(recent.last).to_contain_text("Older draft 2")
    page.locator("#template-picker").select_option(label="Product description")
    expect(page.get_by_label("Key features")).to_be_visible()
    page.get_by_label("Product name").fill("Aurora desk lamp")
    # Held live after 10 tokens until the list has been checked.
    page.get_by_label("Key features").fill("Warm light [[sim:tokens=40]] [[sim:hold_after=10]]")
    with translation.override(language):
        generate = translation.gettext("Generate")
        one_version = translation.ngettext("%(counter)s version", "%(counter)s versions", 1) % {
            "counter": 1
        }

    page.get_by_role("button", name=generate, exact=True).click()

    expect(recent.first).to_contain_text("Aurora desk lamp")  # listed at once, on top
    expect(recent).to_have_count(8)
    expect(page.locator("#stream-text")).not_to_be_empty()  # its stream has begun: release it
    release_held_streams(simulator_url)
    expect(recent.first).to_contain_text(one_version, timeout=20_000)  # counted at the end
    expect(recent.nth(1)).to_contain_text("Older draft 9")


def test_stop_keeps_the_text_written_so_far(page: Page, studio_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    fill_product_form(page, features="Warm light [[sim:tokens=3000]] [[sim:hold_after=40]]")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#stream-text")).not_to_be_empty()

    page.keyboard.press("Escape")  # the Stop shortcut

    expect(page.locator("[data-status]")).to_have_text("Stopped", timeout=10_000)
    expect(page.get_by_role("status")).to_contain_text("text written so far is kept")
    expect(page.locator("#draft-body")).not_to_be_empty()
    expect(page.locator("#version-list")).to_contain_text("v1 · Generated · Stopped")


def test_regenerate_restore_and_export(page: Page, studio_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    fill_product_form(page, features="Warm light [[sim:tokens=40]]")
    page.get_by_role("button", name="Generate").click()
    versions = page.locator("#version-list")
    expect(versions).to_contain_text("v1", timeout=20_000)
    first = page.locator("#draft-body").inner_text()

    page.get_by_role("button", name="Regenerate", exact=True).click()

    expect(versions).to_contain_text("v2", timeout=20_000)
    versions.get_by_role("link", name="v1 · Generated").click()
    expect(page.locator("#draft-body")).to_have_text(first)
    page.get_by_role("button", name="Restore v1 as the newest version").click()
    expect(versions).to_contain_text("v3 · Restored")
    expect(page.locator("#draft-body")).to_have_text(first)

    with page.expect_download() as download:
        page.get_by_role("link", name="Markdown").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert first.split("\n")[0].strip() in exported  # the restored text, as Markdown


def test_a_reviewer_watching_a_stream_end_gets_no_editing_controls(
    page: Page, browser, studio_url, simulator_url, ready, other_user
):
    """The final panel the stream swaps in is the reviewer's own, as on a page load."""
    from studio.workspaces.actions import add_member

    add_member(workspace=ready, user=other_user, role="reviewer")
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    expect(page.get_by_role("heading", name="Generate")).to_be_visible()  # landed in Marketing
    # Held live after 30 tokens until the reviewer has looked.
    fill_product_form(page, features="Warm light [[sim:tokens=60]] [[sim:hold_after=30]]")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#stream-text")).not_to_be_empty()
    draft_id = page.url.split("draft=")[1].split("&")[0]
    reviewer = browser.new_context(locale="en-US").new_page()
    log_in(reviewer, studio_url, "cordelia", "pw-cordelia-123")

    reviewer.goto(f"{studio_url}/drafts/{draft_id}/")
    expect(reviewer.locator("#stream-text")).not_to_be_empty()  # watching it live
    expect(reviewer.get_by_role("button", name="Stop")).to_have_count(0)
    release_held_streams(simulator_url)

    expect(reviewer.locator("#version-list")).to_contain_text("v1", timeout=20_000)
    expect(page.locator("#version-list")).to_contain_text("v1", timeout=20_000)
    expect(page.get_by_role("button", name="Regenerate", exact=True)).to_be_visible()
    for controls in [reviewer.get_by_role("button"), reviewer.get_by_role("link")]:
        for name in ["Regenerate", "Edit", "Share read-only link", "Shorter", "Move"]:
            expect(controls.filter(has_text=name)).to_have_count(0)
    expect(reviewer.get_by_label("Status")).to_be_visible()  # reviewers may set it
    reviewer.context.close()
