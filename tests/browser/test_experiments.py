"""An A/B experiment in a real browser: create it, two variants stream side by side, the
editor votes blind with the keyboard, the columns are revealed, the results page shows it."""

import re

import pytest
from playwright.sync_api import Page, expect

from prompts.actions import duplicate_template
from prompts.experiments.models import ExperimentRun
from tests.browser.conftest import log_in, release_held_streams

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ready(user, workspace, product_template):
    duplicate_template(template=product_template, workspace=workspace, user=user)
    return workspace


def create_experiment(page: Page, base_url: str, workspace) -> None:
    page.goto(f"{base_url}/w/{workspace.pk}/templates/")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Experiments"
    ).click()
    page.get_by_role("link", name="New experiment").click()
    page.get_by_label("Name", exact=True).fill("Cooler copy?")
    # Another template swaps in its versions (htmx); back to the workspace's own copy.
    page.get_by_label("Template").select_option(label="Marketing email (library)")
    expect(page.get_by_label("Variant 1 version")).to_contain_text("v1")
    expect(page.locator("#variant-fields")).to_contain_text("read-only library template")
    page.get_by_label("Template").select_option(label="Product description")
    expect(page.locator("#variant-fields")).not_to_contain_text("read-only library template")
    page.get_by_label("Variant 1 name").fill("Baseline")
    page.get_by_label("Variant 2 name").fill("Chilled")
    page.get_by_label("Variant 2 temperature").fill("0.3")
    expect(page.get_by_label("Blind review")).to_be_checked()
    page.get_by_role("button", name="Create experiment").click()
    expect(page.get_by_role("heading", name="Cooler copy?")).to_be_visible()


def test_two_variants_stream_side_by_side_and_the_blind_vote_reaches_the_results(
    page: Page, studio_url, simulator_url, ready
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    create_experiment(page, studio_url, ready)
    page.get_by_label("Product name").fill("Aurora desk lamp")
    # Both held live after 30 tokens until the live checks are made.
    page.get_by_label("Key features").fill("Warm light [[sim:tokens=60]] [[sim:hold_after=30]]")

    page.get_by_role("button", name="Run every variant").click()

    # Both columns are writing at the same moment: streaming in parallel, not one by one.
    expect(page.locator(".run-column")).to_have_count(2)
    live = page.locator(".run-column[data-live] [data-stream]")
    live_with_text = live.filter(has_text=re.compile(r"\S"))  # blocks or open text
    expect(live_with_text).to_have_count(2)
    run = ExperimentRun.objects.get()  # ids differ by database: ask, don't assume 1
    expect(page).to_have_url(f"{studio_url}/w/{ready.pk}/runs/{run.pk}/")
    recent = page.locator("#recent-runs")  # listed at once, no reload
    expect(recent.locator("[data-runs] li")).to_have_count(1)
    expect(recent).to_contain_text(f"Run {run.pk}")
    expect(recent).to_contain_text("to vote")
    release_held_streams(simulator_url)
    # Then each ends as rendered text, still labelled only A and B.
    expect(page.locator(".run-column[data-finished] [data-text] p").first).to_be_visible(
        timeout=20_000
    )
    expect(page.locator(".run-column[data-finished]")).to_have_count(2, timeout=20_000)
    expect(page.locator("[data-variant]")).to_have_count(0)
    expect(page.locator("#run")).not_to_contain_text("Baseline")
    expect(page.locator("#run")).not_to_contain_text("Chilled")
    # As a reader sees it: the vote opens once the last column's final swap has landed.
    expect(page.locator('#run button[data-vote-key="1"]')).to_be_enabled()

    page.keyboard.press("1")  # "A is better"

    expect(page.locator("[data-my-vote]")).to_contain_text("You picked A:")
    expect(recent).to_contain_text("voted")
    expect(recent).not_to_contain_text("to vote")
    expect(page.locator("[data-reveal]")).to_contain_text("Baseline")
    expect(page.locator("[data-reveal]")).to_contain_text("Chilled")
    expect(page.locator("[data-variant]")).to_have_count(2)
    winner = page.locator("#column-A [data-variant]").inner_text()
    assert winner in {"Baseline", "Chilled"}

    page.get_by_role("link", name="Experiment results").click()

    row = page.locator(f'[data-variant-result="{winner}"]')
    expect(row.locator("[data-wins]")).to_have_text("1")
    expect(row.locator("[data-win-rate]")).to_have_text("100%")
    expect(page.locator("[data-votes]")).to_contain_text(winner)
    expect(page.locator("[data-statement]")).to_have_text(
        "Not enough votes yet to tell (1 of 10 needed)."
    )
