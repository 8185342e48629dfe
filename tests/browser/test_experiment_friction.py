"""The side-by-side run page's rough edges, in a real browser and in both languages: the form
folds away once a run starts, the vote opens only when both columns are done, the pick stays
pressed, variant names are not repeated, experiment drafts stay out of the Drafts list until
asked for, and the run and results pages fit a 390 px phone."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from prompts.actions import duplicate_template
from prompts.experiments.actions import create_experiment
from prompts.experiments.models import ExperimentRun
from tests.browser.conftest import log_in, release_held_streams

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def experiment(user, workspace, product_template):
    own = duplicate_template(template=product_template, workspace=workspace, user=user)
    version = own.versions.get()
    # Default names ("v1", "v1 · t=1.2"): the pages must not say them twice.
    variants = [
        {"name": "v1", "version": version},
        {"name": "v1 · t=1.2", "version": version, "temperature": 1.2},
    ]
    return create_experiment(workspace=workspace, name="Warmer?", variants=variants, user=user)


def _(language: str, text: str, **values) -> str:
    with translation.override(language):
        return translation.gettext(text) % values if values else translation.gettext(text)


def fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide in {width}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_run_from_start_to_vote_on_a_phone(
    page: Page, studio_url, simulator_url, workspace, experiment, language
):
    page.set_viewport_size(PHONE)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}{experiment.get_absolute_url()}")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)

    # No run yet: the form is open. Variant names are said once ("v1", not "v1 · v1").
    details = page.locator("details[data-run-details]")
    expect(details).to_have_attribute("open", "")
    expect(page.locator("[data-variants] li").first).to_have_text(
        f"v1 {_(language, 'weight')} 1", use_inner_text=True
    )
    expect(page.locator("[data-variant-details]", has_text="v1")).to_have_count(0)
    page.locator("[name=product_name]").fill("Aurora desk lamp")
    # Both held live after 30 tokens until the live checks are made.
    page.locator("[name=features]").fill("Warm light [[sim:tokens=60]] [[sim:hold_after=30]]")
    page.get_by_role("button", name=_(language, "Run every variant")).click()

    # The form folds away and the columns are in sight.
    expect(page.locator(".run-column")).to_have_count(2)
    # Recent runs lists this first run at once (it once said "No runs yet" until a reload).
    recent = page.locator("#recent-runs")
    expect(recent.locator("[data-runs] li")).to_have_count(1)
    expect(recent).to_contain_text(_(language, "to vote"))
    expect(details).not_to_have_attribute("open", "")
    expect(page.locator("#run [data-columns]")).to_be_in_viewport()
    # While a column still writes, no vote button can be pressed (read in one go, so the
    # answer cannot change between the two looks).
    state = page.evaluate(
        """() => ({
          live: document.querySelectorAll('.run-column[data-live]').length,
          enabled: [...document.querySelectorAll('[data-vote-form] button[name=choice]')]
            .filter((b) => !b.disabled).length,
        })"""
    )
    assert state["live"] == 0 or state["enabled"] == 0, state
    live = page.locator(".run-column[data-live] [data-stream]").filter(has_text=re.compile(r"\S"))
    expect(live).to_have_count(2)  # both streams have begun: release them
    release_held_streams(simulator_url)
    a_better = page.get_by_role("button", name=_(language, "%(letter)s is better", letter="A"))
    b_better = page.get_by_role("button", name=_(language, "%(letter)s is better", letter="B"))
    tie = page.get_by_role("button", name=_(language, "Tie"))
    expect(page.locator(".run-column[data-finished]")).to_have_count(2, timeout=20_000)
    expect(a_better).to_be_enabled()  # enabled by the last column's final swap, no reload
    expect(page.locator("[data-vote-wait]")).to_have_count(0)
    fits(page, PHONE["width"])

    b_better.click()

    expect(page.locator("[data-my-vote]")).to_be_visible()
    expect(recent).to_contain_text(_(language, "voted"))  # refreshed by the vote
    expect(recent).not_to_contain_text(_(language, "to vote"))
    expect(b_better).to_have_attribute("aria-pressed", "true")
    expect(a_better).to_have_attribute("aria-pressed", "false")
    expect(tie).to_have_attribute("aria-pressed", "false")
    expect(a_better).to_have_class(has_class("text-slate-500"))
    expect(b_better).to_have_class(has_class("bg-brand-600"))
    # Revealed: each column names its variant once, its details not repeating the name.
    expect(page.locator("[data-variant]")).to_have_count(2)
    for column in page.locator(".run-column").all():
        name = column.locator("[data-variant]").inner_text()
        detail = column.locator("[data-variant-details]")
        if detail.count():
            assert not set(detail.inner_text().split(" · ")) & set(name.split(" · "))
    fits(page, PHONE["width"])

    page.get_by_role("link", name=_(language, "Experiment results")).click()
    expect(page.locator("[data-results]")).to_be_visible()
    expect(page.locator("[data-results] [data-variant-details]")).to_have_count(0)
    options = page.locator("select[name=variant] option").all_inner_texts()
    assert all("(" not in option for option in options), options
    fits(page, PHONE["width"])

    # The run's two drafts stay out of the Drafts list until asked for.
    page.goto(f"{studio_url}/w/{workspace.pk}/drafts/")
    expect(page.locator("[data-draft]")).to_have_count(0)
    page.get_by_label(_(language, "Show experiment drafts")).check()
    expect(page.locator("[data-draft]")).to_have_count(2)
    assert ExperimentRun.objects.get().columns.count() == 2
    # The dashboard leaves them out of its counts too, and links to them.
    page.goto(f"{studio_url}/w/{workspace.pk}/dashboard/")
    expect(page.locator('[data-status-count="draft"]')).to_contain_text("0")
    page.get_by_role("link", name=_(language, "Show experiment drafts")).click()
    expect(page.locator("[data-draft]")).to_have_count(2)
    expect(page.get_by_label(_(language, "Show experiment drafts"))).to_be_checked()


def has_class(css_class: str) -> re.Pattern:
    return re.compile(rf"(^|\s){re.escape(css_class)}(\s|$)")
