"""LLM-as-judge: the reply is read robustly (or recorded as unreadable), and the judge task
scores a finished batch through the worker, apart from the votes."""

import json

import pytest
import respx

from prompts.experiments.actions import InvalidExperiment
from prompts.experiments.batch_actions import start_batch, start_judging
from prompts.experiments.judging import judge_messages, parse_verdict
from prompts.experiments.models import Batch, JudgeScore, Vote
from studio.audit.models import AuditLog
from tests.conftest import CHAT_URL, completion
from tests.prompts import batch_helpers
from tests.prompts.batch_helpers import make_batch, run_worker

experiment = batch_helpers.experiment


@pytest.mark.parametrize(
    ("reply", "score", "reason"),
    [
        ('{"score": 8, "reason": "Clear and on brief."}', 8, "Clear and on brief."),
        ('```json\n{"score": "7/10", "reason": "Good"}\n```', 7, "Good"),
        ('Sure! {"score": 10.0, "reason": ""} Hope that helps.', 10, ""),
        ('{"score": "9", "reason": "Tight"}', 9, "Tight"),
    ],
)
def test_readable_verdicts(reply, score, reason):
    verdict = parse_verdict(reply)

    assert (verdict.score, verdict.reason, verdict.parsed) == (score, reason, True)


@pytest.mark.parametrize(
    "reply",
    [
        "I'd give it an eight.",
        '{"score": 11, "reason": "too good"}',
        '{"score": 0}',
        '{"score": 7.5}',
        '{"score": true}',
        '{"score": 8, "reason": "unterminated}',
        "[8]",
        "",
    ],
)
def test_unreadable_verdicts_have_no_score(reply):
    assert parse_verdict(reply).score is None


def test_the_judge_sees_rubric_inputs_and_output():
    system, user = judge_messages(rubric="Short.", inputs={"product_name": "Lamp"}, output="Hi")

    assert "JSON" in system["content"]
    assert user["content"] == "RUBRIC:\nShort.\n\nINPUTS:\n- product_name: Lamp\n\nOUTPUT:\nHi"


@pytest.mark.django_db(transaction=True)
@respx.mock
def test_the_judge_scores_every_output_apart_from_the_votes(experiment, user, settings):
    settings.DEEPSEEK_REASONING_MODEL = "deepseek-v4-pro"
    replies = iter(
        ['{"score": 8, "reason": "On brief."}', "Eight out of ten!"]
        + ['{"score": 3, "reason": "Rambles."}'] * 2
    )

    def answer(request):
        body = json.loads(request.content)
        if "RUBRIC:" in body["messages"][-1]["content"]:
            return completion(next(replies))
        return completion("A lamp.")

    route = respx.post(CHAT_URL).mock(side_effect=answer)
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin={})
    run_worker()
    with pytest.raises(InvalidExperiment):
        start_judging(batch=batch, rubric="  ")

    start_judging(batch=batch, rubric="Names the product; under 50 words.")
    run_worker()

    batch.refresh_from_db()
    assert (batch.judge_status, batch.judge_done, batch.judge_total) == ("done", 4, 4)
    scores = list(JudgeScore.objects.order_by("output__run", "output__position"))
    assert [s.status for s in scores] == ["scored", "unparseable", "scored", "scored"]
    assert [s.score for s in scores] == [8, None, 3, 3]
    assert scores[1].raw == "Eight out of ten!"
    assert all(s.rubric == "Names the product; under 50 words." for s in scores)
    assert all(s.cost is not None and s.model == "deepseek-v4-pro" for s in scores)
    judge_calls = [json.loads(c.request.content) for c in route.calls][4:]
    assert {c["model"] for c in judge_calls} == {"deepseek-v4-pro"}
    assert all(c["thinking"] == {"type": "enabled"} for c in judge_calls)
    assert AuditLog.objects.filter(generation_id__isnull=True, model="deepseek-v4-pro").count() == 4
    assert not Vote.objects.exists()  # a score is never a vote
    assert Batch.objects.get().status == Batch.Status.DONE


@pytest.mark.django_db(transaction=True)
@respx.mock
def test_judging_stops_when_the_owners_budget_is_spent(experiment, user, settings):
    """The judge's calls count against the batch owner's daily budget like any other."""
    route = respx.post(CHAT_URL).mock(return_value=completion('{"score": 8, "reason": "Ok"}'))
    batch = make_batch(experiment, user)
    start_batch(batch=batch, origin={})
    run_worker()
    settings.AI_DAILY_TOKEN_BUDGET = 4 * 17 + 100  # the batch used 68: no room for a verdict
    asked = route.call_count

    start_judging(batch=batch, rubric="Names the product.")
    run_worker()

    batch.refresh_from_db()
    assert batch.judge_status == "failed" and route.call_count == asked
    assert AuditLog.objects.filter(status="over_budget", user=user).count() == 1
