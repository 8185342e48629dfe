"""Audit rows: record_ai_call (a finished generation's row: tests/drafts/test_audit.py)."""

from decimal import Decimal

import pytest
from django.test import RequestFactory

from studio.audit.models import AuditLog
from studio.audit.recording import arecord_ai_call, format_prompt, record_ai_call


def test_record_ai_call_writes_one_row(user, workspace):
    row = record_ai_call(
        status="ok",
        user=user,
        workspace=workspace,
        prompt=[{"role": "user", "content": "Hi"}],
        response="Hello",
        model="deepseek-flash",
        prompt_tokens=3,
        completion_tokens=2,
        cost=Decimal("0.000010"),
        latency_ms=120,
        ip="10.0.0.7",
    )

    row.refresh_from_db()
    assert (row.user, row.workspace, row.status, row.total_tokens) == (user, workspace, "ok", 5)
    assert (row.prompt, row.response, row.ip) == ("user: Hi", "Hello", "10.0.0.7")


def test_a_request_supplies_ip_session_and_request_id(user, rf: RequestFactory):
    request = rf.post("/", REMOTE_ADDR="192.0.2.4", headers={"X-Request-ID": "req-1"})
    request.session = type("S", (), {"session_key": "abc123"})()

    row = record_ai_call(status="failed", user=user, request=request, error_code="Overloaded")

    assert (row.ip, row.request_id, row.channel) == ("192.0.2.4", "req-1", "ui")
    assert row.session and "abc123" not in row.session  # a hash, never the key


@pytest.mark.django_db(transaction=True)
async def test_arecord_ai_call_works_from_async_code(user):
    row = await arecord_ai_call(status="cancelled", user_id=user.pk, model="m")

    assert await AuditLog.objects.filter(pk=row.pk, status="cancelled").aexists()


def test_format_prompt_keeps_roles():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]

    assert format_prompt(messages) == "system: S\n\nuser: U"
