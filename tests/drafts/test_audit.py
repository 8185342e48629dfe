"""drafts.audit.record_generation: a finished generation's audit row and metrics, with the
origin of the request that started it."""

import hashlib
from decimal import Decimal

import pytest
from django.core.cache import cache

from drafts.actions import finish_generation
from drafts.audit import record_generation
from studio.audit.metrics import sample
from studio.audit.origin import Origin
from studio.guardrails.budgets import tokens_used_today
from tests.generating import start_generation


@pytest.fixture
def generation(workspace, product_template, product_inputs, user, rf):
    request = rf.post("/", REMOTE_ADDR="198.51.100.9")
    request.session = type("S", (), {"session_key": "k"})()
    return start_generation(
        workspace=workspace,
        version=product_template.current_version(),
        inputs=product_inputs,
        user=user,
        origin=Origin.from_request(request),
    )


@pytest.mark.parametrize(
    ("status", "audit_status", "error"),
    [("done", "ok", ""), ("failed", "failed", "Overloaded"), ("cancelled", "cancelled", "")],
)
def test_record_generation_audits_and_counts_each_outcome(
    generation, rf, user, workspace, status, audit_status, error
):
    cache.clear()  # the origin is the generation's own, not a cached copy
    finish_generation(
        generation_id=generation.pk,
        status=status,
        text="Some text",
        reasoning="",
        fields={
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "duration_ms": 900,
            "ttft_ms": 200,
            "error_code": error,
            "cost": Decimal("0.000123"),
        },
    )
    before = sample("ai_request_total", {"model": generation.model, "status": audit_status})

    row = record_generation(generation.pk)

    assert (row.status, row.user, row.workspace, row.generation_id) == (
        audit_status,
        user,
        workspace,
        generation.pk,
    )
    assert (row.total_tokens, row.latency_ms, row.ttft_ms, row.error_code) == (14, 900, 200, error)
    assert row.ip == "198.51.100.9" and "Aurora desk lamp" in row.prompt
    assert (row.channel, row.session) == ("ui", hashlib.sha256(b"k").hexdigest()[:16])
    assert row.cost == Decimal("0.000123") and row.response == "Some text"
    after = sample("ai_request_total", {"model": generation.model, "status": audit_status})
    assert after == before + 1


@pytest.mark.parametrize("status", ["cancelled", "failed", "interrupted"])
def test_a_generation_ended_before_its_usage_is_audited_with_estimated_tokens(
    generation, user, status
):
    """DeepSeek bills a stopped stream's tokens; the budget must count them too."""
    finish_generation(
        generation_id=generation.pk,
        status=status,
        text="Written before the stop. " * 20,
        reasoning="",
        fields={"duration_ms": 900, "ttft_ms": 200},
    )

    row = record_generation(generation.pk)

    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    assert row.cost is not None and row.cost > 0
    assert tokens_used_today(user) == row.total_tokens
    generation.refresh_from_db()
    assert generation.prompt_tokens is None  # the generation keeps "no usage reported"


def test_a_generation_stopped_before_any_text_costs_nothing(generation, user):
    finish_generation(
        generation_id=generation.pk, status="cancelled", text="", reasoning="", fields={}
    )

    row = record_generation(generation.pk)

    assert (row.prompt_tokens, row.completion_tokens, row.cost) == (None, None, None)


def test_the_runner_s_saved_generation_is_audited_without_reading_it_back(
    generation, django_assert_num_queries
):
    ended = finish_generation(
        generation_id=generation.pk,
        status="done",
        text="Some text",
        reasoning="",
        fields={"prompt_tokens": 3, "completion_tokens": 2},
    )

    with django_assert_num_queries(1):  # the audit row itself
        row = record_generation(ended)

    assert (row.generation_id, row.workspace_id, row.total_tokens) == (
        generation.pk,
        generation.draft.workspace_id,
        5,
    )


@pytest.mark.django_db
def test_an_audit_run_again_after_a_lost_connection_keeps_the_row_the_first_try_wrote(
    generation,
):
    """``again`` (background.healing's second try): the first try may have written its row
    before the connection broke; the generation keeps one row, and the call is counted."""
    from studio.audit.models import AuditLog

    finish_generation(
        generation_id=generation.pk, status="done", text="Text", reasoning="", fields={}
    )
    first = record_generation(generation.pk)
    before = sample("ai_request_total", {"model": generation.model, "status": "ok"})

    again = record_generation(generation.pk, again=True)

    assert again == first
    assert AuditLog.objects.filter(generation_id=generation.pk).count() == 1
    assert sample("ai_request_total", {"model": generation.model, "status": "ok"}) == before + 1
