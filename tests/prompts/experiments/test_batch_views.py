"""Batch pages: upload, run, the polled progress partial, the review queue's votes, judge
scores beside votes on the results page; membership (404) and roles (403) checked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from prompts.experiments.batch_inputs import BatchUploadForm
from prompts.experiments.batch_progress import save_judge_score
from prompts.experiments.models import Batch, BatchRow, Vote
from studio.workspaces.actions import add_member
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import CSV, finished_batch, make_batch

pytestmark = pytest.mark.django_db(transaction=True)
experiment = batch_helpers.experiment
HTMX = {"HX-Request": "true"}


def _url(name, *args):
    return reverse(f"prompts:{name}", args=args)


def _upload(client, experiment, data: bytes, name="Lamps"):
    upload = SimpleUploadedFile("lamps.csv", data, content_type="text/csv")
    url = _url("batches", experiment.workspace_id, experiment.pk)
    return client.post(url, {"name": name, "inputs": upload})


def test_uploading_a_csv_creates_a_batch_ready_to_run(client, user, experiment):
    client.force_login(user)
    page = client.get(_url("batches", experiment.workspace_id, experiment.pk))
    assert b"product_name,features,audience,tone,words,language" in page.content

    response = _upload(client, experiment, CSV)

    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == batch.get_absolute_url()
    assert (batch.name, batch.source_name, batch.status, batch.total) == (
        "Lamps",
        "lamps.csv",
        "ready",
        4,
    )
    assert list(batch.rows.values_list("line", "inputs__product_name")) == [
        (2, "Aurora desk lamp"),
        (3, "Beacon torch"),
    ]


def test_a_bad_csv_lists_every_problem_and_creates_nothing(client, user, experiment):
    client.force_login(user)

    response = _upload(client, experiment, b"product_name,features,tone\n,x,friendly\nA,b,grim\n")

    assert response.status_code == 200
    assert not Batch.objects.exists()
    errors = response.content.decode()
    assert "Line 2: Product name: This field is required." in errors
    assert (
        "Line 3: Tone: Select a valid choice. grim is not one of the available choices." in errors
    )


def test_run_queues_the_task_and_the_progress_partial_polls_until_done(client, user, experiment):
    client.force_login(user)
    batch = make_batch(experiment, user)
    url = batch.get_absolute_url()
    assert b"Run batch" in client.get(url).content

    response = client.post(url, {"run": ""})

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "queued" and batch.origin["ip"] == "127.0.0.1"
    assert DBTaskResult.objects.get().task_path == "prompts.experiments.tasks.run_batch"
    partial = client.get(url, headers=HTMX | {"HX-Target": "batch-status"}).content.decode()
    assert "<html" not in partial and 'id="batch-status"' in partial
    assert 'hx-trigger="every 2s"' in partial and "Waiting for the background worker" in partial

    Batch.objects.filter(pk=batch.pk).update(status="done", done_count=3, failed_count=1)
    BatchRow.objects.filter(batch=batch, line=3).update(status="failed", error="Plain: no")
    partial = client.get(url, headers=HTMX | {"HX-Target": "batch-status"}).content.decode()
    assert "hx-trigger" not in partial  # finished: polling stops
    assert "4 of 4 outputs" in partial and "1 failed" in partial and "Plain: no" in partial
    assert _url("batch_review", batch.experiment.workspace_id, batch.pk) in partial


def test_the_review_queue_votes_blind_and_moves_on(client, user, experiment):
    client.force_login(user)
    batch = finished_batch(experiment, user, products=1)
    url = _url("batch_review", experiment.workspace_id, batch.pk)

    page = client.get(url).content.decode()

    assert "data-vote-form" in page and 'data-vote-key="t"' in page and 'data-vote-key="b"' in page
    assert "Plain for row" in page and "Question for row" in page  # the outputs, unnamed
    assert "data-variant" not in page
    run = batch.runs().get()
    order = page.split('name="order" value="', 1)[1].split('"', 1)[0]
    left, right = (int(i) for i in order.split(","))

    response = client.post(url, {"run": run.pk, "order": order, "choice": "2"}, headers=HTMX)

    vote = Vote.objects.get()
    assert (vote.run, vote.voter, vote.winner_id, vote.shown_order) == (
        run,
        user,
        right,
        [left, right],
    )
    body = response.content.decode()
    assert "<html" not in body and "You have reviewed every pair" in body
    assert "Vote recorded." in body


def test_a_tampered_pair_is_refused(client, user, experiment):
    client.force_login(user)
    batch = finished_batch(experiment, user, products=1)
    run = batch.runs().get()
    url = _url("batch_review", experiment.workspace_id, batch.pk)

    response = client.post(url, {"run": run.pk, "order": "1,999999", "choice": "1"})

    assert response.status_code == 200 and not Vote.objects.exists()
    assert "no longer in this batch" in response.content.decode()


def test_judge_scores_show_beside_votes_and_are_not_votes(client, user, experiment):
    client.force_login(user)
    batch = finished_batch(experiment, user, products=1)
    for output, score in zip(batch.outputs().order_by("position"), (9, 4), strict=True):
        save_judge_score(batch=batch, output=output, status="scored", score=score, reason="r")

    results = client.get(_url("experiment_results", experiment.workspace_id, experiment.pk))
    detail = client.get(batch.get_absolute_url())

    for page in (results.content.decode(), detail.content.decode()):
        assert "data-judge-table" in page
        assert "9.0" in page and "4.0" in page
    assert not Vote.objects.exists()


def test_batch_pages_are_404_to_another_workspace(client, other_user, user, experiment):
    batch = finished_batch(experiment, user, products=1)
    client.force_login(other_user)
    ws = experiment.workspace_id
    urls = [
        _url("batches", ws, experiment.pk),
        batch.get_absolute_url(),
        _url("batch_review", ws, batch.pk),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"run": ""}).status_code == 404, url


def test_a_reviewer_votes_but_cannot_run_or_upload(client, other_user, user, experiment):
    add_member(workspace=experiment.workspace, user=other_user, role="reviewer")
    batch = make_batch(experiment, user)
    client.force_login(other_user)

    assert client.post(batch.get_absolute_url(), {"run": ""}).status_code == 403
    assert _upload(client, experiment, CSV).status_code == 403
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "Run batch" not in page and "Judge with DeepSeek" not in page
    assert client.get(_url("batch_review", experiment.workspace_id, batch.pk)).status_code == 200
    assert Batch.objects.get().status == "ready"


def test_a_stale_batch_offers_resume_to_editors_only(client, other_user, user, experiment):
    from datetime import timedelta

    from django.utils import timezone

    batch = make_batch(experiment, user)
    Batch.objects.filter(pk=batch.pk).update(
        status=Batch.Status.RUNNING, attempt=1, progressed=timezone.now() - timedelta(hours=1)
    )
    add_member(workspace=experiment.workspace, user=other_user, role="reviewer")
    client.force_login(other_user)
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "data-stale" in page and "seems to have stopped" in page
    assert 'name="resume"' not in page
    assert client.post(batch.get_absolute_url(), {"resume": ""}).status_code == 403

    client.force_login(user)
    partial = client.get(batch.get_absolute_url(), headers=HTMX | {"HX-Target": "batch-status"})
    assert 'name="resume"' in partial.content.decode()
    response = client.post(batch.get_absolute_url(), {"resume": ""}, follow=True)

    assert "Batch resumed: only the rows not done will run." in response.content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.attempt) == (Batch.Status.QUEUED, 2)
    assert DBTaskResult.objects.get().args_kwargs["kwargs"]["attempt"] == 2


def test_resuming_a_batch_that_still_progresses_is_refused(client, user, experiment):
    batch = make_batch(experiment, user)
    client.force_login(user)
    client.post(batch.get_absolute_url(), {"run": ""})
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "data-stale" not in page

    response = client.post(batch.get_absolute_url(), {"resume": ""}, follow=True)

    assert "still making progress" in response.content.decode()
    assert DBTaskResult.objects.count() == 1


def test_batch_runs_are_listed_with_their_batch_not_among_recent_runs(client, user, experiment):
    batch = finished_batch(experiment, user, products=2)
    client.force_login(user)

    html = client.get(experiment.get_absolute_url()).content.decode()

    assert "data-runs" not in html and "No runs yet" in html
    assert f'href="{batch.get_absolute_url()}"' in html and "2 rows" in html


@pytest.mark.parametrize(
    ("rubric", "reason"),
    [
        ("Score it. Our key is sk-abcdefghijklmnopqrstuvwx", "an API secret key"),
        ("Score it well. " * 300, "the limit is 4,000"),
    ],
)
def test_a_rubric_the_prompt_checks_refuse_comes_back_as_typed(
    client, user, experiment, rubric, reason
):
    client.force_login(user)
    batch = finished_batch(experiment, user, products=1)
    queued = DBTaskResult.objects.count()

    response = client.post(batch.get_absolute_url(), {"judge": "", "rubric": rubric})

    page = response.content.decode()
    assert response.status_code == 200 and reason in page
    assert rubric.strip().split(".")[0] in page  # the textarea keeps what was typed
    batch.refresh_from_db()
    assert (batch.rubric, batch.judge_status) == ("", "")
    assert DBTaskResult.objects.count() == queued  # no judge queued


def test_a_csv_with_a_200_000_character_value_gets_a_clear_error(client, user, experiment):
    client.force_login(user)
    data = b"product_name,features\nLamp," + b"x" * 200_000 + b"\n"

    response = _upload(client, experiment, data)

    assert response.status_code == 200  # the page again, with the reason
    assert "Line 2: a value is longer than 131072 characters." in response.content.decode()
    assert not Batch.objects.exists()


def test_an_oversized_csv_is_refused_by_its_size_before_reading():
    class Huge(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("the upload was read")

    upload = Huge("big.csv", b"", "text/csv")
    upload.size = 50 * 1024 * 1024
    form = BatchUploadForm({"name": "Big"}, {"inputs": upload})

    assert not form.is_valid()
    assert form.errors["inputs"] == ["The file is larger than 1 MB."]


def test_the_review_queue_links_a_grounded_outputs_citations(client, user, experiment):
    """[n] in a grounded output opens passage n's popover; a number not given is flagged."""
    from drafts.models import Generation, GroundingPassage

    client.force_login(user)
    batch = finished_batch(experiment, user, products=1)
    first, second = (c.generation for c in batch.runs().get().columns.all())
    Generation.objects.filter(pk=first.pk).update(text="Forty hours [1], or [4].", passages_given=1)
    GroundingPassage.objects.create(
        generation=first,
        number=1,
        source_title="Lumen sheet",
        version_number=2,
        text="Battery life is 40 hours.",
        score=1.0,
    )

    page = client.get(_url("batch_review", experiment.workspace_id, batch.pk)).content.decode()

    assert f'popovertarget="cite-{first.pk}-1"' in page and f'id="cite-{first.pk}-1"' in page
    assert "Battery life is 40 hours." in page and "Lumen sheet (v2)" in page
    assert 'data-citation-unknown="4"' in page
    assert f"cite-{second.pk}-" not in page  # not grounded: its text is left as it is
