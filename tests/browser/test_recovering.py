"""A generation whose runner is gone (a crashed worker's) in a real browser: the page shows its
text so far as being recovered, opens no stream and writes nothing, and swaps in the kept,
interrupted text by itself once the sweeper has settled it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from drafts import generation as runner
from drafts import sweeper
from drafts.models import Generation
from tests.browser.conftest import log_in
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lost(settings, user, workspace, product_template, product_inputs):
    settings.GENERATION_SWEEP_INTERVAL = 0  # the test sweeps, when it has seen the page
    version = product_template.current_version()
    generation = start_generation(
        workspace=workspace, version=version, inputs=product_inputs, user=user
    )
    long_ago = timezone.now() - timedelta(seconds=runner.HEARTBEAT_TTL + 60)
    Generation.objects.filter(pk=generation.pk).update(
        status="running", text="The lamp that ran out of", created=long_ago
    )
    return generation


def test_a_lost_generation_is_shown_recovering_then_its_kept_text(page: Page, lost, studio_url):
    events = []
    page.on("request", lambda r: events.append(r.url) if "/events/" in r.url else None)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{lost.draft_id}/")

    notice = page.locator("[data-recovering]")
    expect(notice).to_contain_text("being saved")
    expect(page.locator("[data-recovering-text]")).to_have_text("The lamp that ran out of")
    assert Generation.objects.get(pk=lost.pk).status == "running"  # the page wrote nothing

    assert sweeper.sweep() == [lost.pk]

    # The notice asks again every RECOVERING_POLL_SECONDS (0.5 s here): the kept version
    # replaces it, no reload needed.
    expect(page.locator("[data-status=interrupted]")).to_be_visible(timeout=15_000)
    expect(notice).to_have_count(0)
    expect(page.locator("#draft-body")).to_contain_text("The lamp that ran out of")
    assert events == []  # no stream was opened for a generation nobody runs
