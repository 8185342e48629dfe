"""A batch experiment in a real browser: upload a CSV, run it, watch the progress (htmx
polling) reach done while the django-tasks-db worker runs against the simulator, then work
through the review queue with the keyboard: 1, 2, t and b."""

import threading

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker
from playwright.sync_api import Page, expect

from prompts.experiments.models import Batch, Vote
from tests.browser.conftest import log_in
from tests.prompts import batch_helpers

pytestmark = pytest.mark.django_db(transaction=True)
experiment = batch_helpers.experiment

# Short answers ([[sim:tokens=N]]: the simulator's length, taken out of the prompt): the page's
# progress and the review queue are the point, not two seconds of text per output.
CSV = (
    b"product_name,features\nAurora desk lamp,Warm light [[sim:tokens=30]]\n"
    b"Beacon torch,Waterproof [[sim:tokens=30]]\nCirrus fan,Quiet [[sim:tokens=30]]\n"
    b"Delta kettle,Fast boil [[sim:tokens=30]]\n"
)


def run_worker_in_background() -> threading.Thread:
    """The worker drains the queue in a thread of its own (Playwright's sync API keeps an
    event loop in this one); the page polls meanwhile."""

    def work() -> None:
        try:
            Worker(
                queue_names=["default"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id="browser-test",
                excluded_queue_names=[],
            ).run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_upload_run_watch_progress_and_vote_in_the_review_queue(page: Page, studio_url, experiment):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}{experiment.get_absolute_url()}")
    page.get_by_role("link", name="Batches").click()
    page.get_by_label("Batch name").fill("Two lamps")
    page.get_by_label("Inputs (CSV)").set_input_files(
        {"name": "lamps.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.get_by_role("button", name="Upload inputs").click()
    expect(page.get_by_role("heading", name="Two lamps")).to_be_visible()
    expect(page.locator("[data-progress]")).to_contain_text("0 of 8 outputs")

    page.get_by_role("button", name="Run batch").click()
    expect(page.locator("[data-status]")).to_have_text("Waiting for a worker")
    expect(page.locator("#batch-status[data-polling]")).to_have_count(1)
    worker = run_worker_in_background()

    # htmx polls the progress every BATCH_POLL_SECONDS (0.5 s here) until the batch is done,
    # then stops.
    expect(page.locator('#batch-status[data-batch-status="done"]')).to_have_count(1, timeout=30_000)
    worker.join(timeout=30)
    expect(page.locator("[data-progress]")).to_contain_text("8 of 8 outputs")
    expect(page.locator("#batch-status[data-polling]")).to_have_count(0)
    assert Batch.objects.get().done_count == 8

    page.locator("[data-review-link]").click()
    expect(page.locator("[data-output]")).to_have_count(2)
    expect(page.locator("[data-remaining]")).to_contain_text("4 pairs left")

    for key, left in [("1", "3 pairs left"), ("2", "2 pairs left"), ("t", "1 pair left")]:
        page.keyboard.press(key)  # A is better, B is better, tie
        expect(page.locator("[data-remaining]")).to_contain_text(left)
        expect(page.locator("[data-last-vote]")).to_contain_text("Vote recorded.")
    page.keyboard.press("b")  # both bad: the last pair

    expect(page.locator("[data-empty]")).to_be_visible()
    votes = list(Vote.objects.order_by("pk"))
    assert [v.choice for v in votes] == ["variant", "variant", "tie", "both_bad"]
    assert votes[0].winner_id == votes[0].shown_order[0]
    assert votes[1].winner_id == votes[1].shown_order[1]
    assert votes[2].winner_id is None and votes[3].winner_id is None
