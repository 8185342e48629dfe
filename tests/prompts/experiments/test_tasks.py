"""The worker's log lines for a batch carry the id of the request that enqueued it."""

import json

import pytest
import respx
from django_tasks_db.models import DBTaskResult

from prompts.experiments.models import Batch
from tests.conftest import CHAT_URL, completion
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import finished_batch, make_batch, run_worker
from tests.studio.test_observability import written  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
experiment = batch_helpers.experiment


def _lines(written, prefix: str) -> list[dict]:  # noqa: F811
    return [line for line in written() if line["logger"].startswith(prefix)]


@respx.mock
def test_a_batch_run_logs_under_the_request_id_that_queued_it(
    client,
    user,
    experiment,
    written,  # noqa: F811
):
    respx.post(CHAT_URL).mock(return_value=completion("Described."))
    batch = make_batch(experiment, user)
    client.force_login(user)

    response = client.post(batch.get_absolute_url(), {"run": ""}, headers={"X-Request-ID": "q-77"})

    assert response.status_code == 302
    assert DBTaskResult.objects.get().args_kwargs["kwargs"]["request_id"] == "q-77"
    run_worker()  # outside the request: the contextvar is empty here
    assert Batch.objects.get().status == Batch.Status.DONE
    runner = _lines(written, "prompts.experiments.batch_runner")
    assert [line["message"] for line in runner] == [
        f"Batch {batch.pk} started (attempt 1)",
        f"Batch {batch.pk} finished: 4 done, 0 failed",
    ]
    assert {line["request_id"] for line in runner} == {"q-77"}
    ai = _lines(written, "studio.ai")
    assert len(ai) == 4 and {line["request_id"] for line in ai} == {"q-77"}


@respx.mock
def test_judging_logs_under_the_request_id_that_queued_it(
    client,
    user,
    experiment,
    written,  # noqa: F811
):
    reply = json.dumps({"score": 7, "reason": "Clear."})
    respx.post(CHAT_URL).mock(return_value=completion(reply))
    batch = finished_batch(experiment, user, products=1)
    client.force_login(user)

    client.post(
        batch.get_absolute_url(),
        {"judge": "", "rubric": "Clear and short."},
        headers={"X-Request-ID": "judge-5"},
    )

    assert DBTaskResult.objects.get().args_kwargs["kwargs"] == {
        "batch_id": batch.pk,
        "request_id": "judge-5",
    }
    run_worker()
    ai = _lines(written, "studio.ai")
    assert len(ai) == 2 and {line["request_id"] for line in ai} == {"judge-5"}


@respx.mock
def test_a_batch_queued_under_the_old_task_path_still_runs(client, user, experiment):
    """Jobs queued before the move name ``prompts.tasks.run_batch``; the worker runs them."""
    respx.post(CHAT_URL).mock(return_value=completion("Described."))
    batch = make_batch(experiment, user)
    client.force_login(user)
    client.post(batch.get_absolute_url(), {"run": ""})
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "prompts.experiments.tasks.run_batch"
    DBTaskResult.objects.update(task_path="prompts.tasks.run_batch")

    run_worker()

    assert Batch.objects.get().status == Batch.Status.DONE
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
