"""The audit log in the admin (read-only, CSV export) and the retention command."""

import csv
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from studio.audit.models import AuditLog


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    return client


def test_the_log_is_browsable_and_not_editable(admin_client, user):
    row = AuditLog.objects.create(user=user, status="ok", model="deepseek-flash", prompt="Hi")

    listing = admin_client.get("/admin/audit/auditlog/")
    change = admin_client.get(f"/admin/audit/auditlog/{row.pk}/change/")

    assert listing.status_code == 200 and "deepseek-flash" in listing.content.decode()
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert admin_client.get("/admin/audit/auditlog/add/").status_code == 403


def test_csv_export_of_selected_rows(admin_client, user):
    rows = [
        AuditLog.objects.create(
            user=user, status="ok", model="m", prompt='say "hi", twice', total_tokens=7
        ),
        AuditLog.objects.create(user=user, status="failed", model="m", error_code="Overloaded"),
    ]

    response = admin_client.post(
        "/admin/audit/auditlog/",
        {"action": "export_csv", "_selected_action": [r.pk for r in rows]},
    )

    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert lines[0].startswith("created,user,workspace,channel") and len(lines) == 3
    assert '"say ""hi"", twice"' in text and "Overloaded" in text


def test_prune_deletes_only_rows_past_retention(user, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditLog.objects.create(
        user=user, status="ok", created=timezone.now() - timedelta(days=31)
    )
    recent = AuditLog.objects.create(
        user=user, status="ok", created=timezone.now() - timedelta(days=29)
    )
    out = StringIO()

    call_command("prune_audit", "--dry-run", stdout=out)
    assert "1 audit entries" in out.getvalue() and AuditLog.objects.count() == 2
    call_command("prune_audit", stdout=out)

    assert list(AuditLog.objects.all()) == [recent]
    assert not AuditLog.objects.filter(pk=old.pk).exists()


def test_prune_deletes_in_batches_of_ids(user, settings):
    """A large table is pruned a batch of ids per DELETE, so no statement locks it for long."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.AUDIT_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    AuditLog.objects.bulk_create(
        AuditLog(user=user, status="ok", created=long_ago) for _ in range(7)
    )
    recent = [
        AuditLog.objects.create(user=user, status="ok", created=timezone.now()) for _ in range(2)
    ]
    out = StringIO()

    with CaptureQueriesContext(connection) as queries:
        call_command("prune_audit", "--batch-size", "3", stdout=out)

    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1 rows
    assert out.getvalue() == "Deleted 7 audit entries older than 30 days.\n"
    assert list(AuditLog.objects.order_by("pk")) == recent


def test_prune_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError, match="batch size must be at least one"):
        call_command("prune_audit", "--batch-size", "0")


def test_csv_export_neutralises_formulas(admin_client, user):
    """Prompts, responses and request ids come from callers: a cell that a spreadsheet would
    run as a formula (=, +, -, @, tab, CR) is exported with a leading apostrophe."""
    rows = [
        AuditLog.objects.create(user=user, status="ok", prompt='=HYPERLINK("http://x","y")'),
        AuditLog.objects.create(user=user, status="ok", response="+1+cmd|' /C calc'!A0"),
        AuditLog.objects.create(user=user, status="ok", request_id="@SUM(1,1)", model="-2+3"),
        AuditLog.objects.create(user=user, status="ok", prompt="\t=1", response="\r=1"),
        AuditLog.objects.create(user=get_user_model().objects.create(username="-evil")),
    ]

    response = admin_client.post(
        "/admin/audit/auditlog/",
        {"action": "export_csv", "_selected_action": [r.pk for r in rows]},
    )

    cells = [
        cell
        for line in csv.reader(StringIO(b"".join(response.streaming_content).decode()))
        for cell in line
    ]
    dangerous = [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    assert dangerous == []
    assert '\'=HYPERLINK("http://x","y")' in cells and "'@SUM(1,1)" in cells
    assert "'-2+3" in cells and "'-evil" in cells


def test_csv_export_neutralises_formulas_behind_blanks_and_full_width_signs(admin_client, user):
    """A spreadsheet skips leading spaces and line breaks and reads ``＝`` as ``=``; numbers,
    a negative cost included, stay numbers."""
    from decimal import Decimal

    texts = [" =1+1", "\n=cmd|' /C calc'!A0", "＝1+1", "\u3000＋1", " \t@SUM(1)", "－1"]
    rows = [AuditLog.objects.create(user=user, status="ok", prompt=text) for text in texts]
    rows.append(
        AuditLog.objects.create(user=user, status="ok", prompt="a = b", cost=Decimal("-1.5"))
    )

    response = admin_client.post(
        "/admin/audit/auditlog/",
        {"action": "export_csv", "_selected_action": [r.pk for r in rows]},
    )

    exported = list(csv.DictReader(StringIO(b"".join(response.streaming_content).decode())))
    prompts = {row["prompt"] for row in exported}
    assert prompts == {"'" + text for text in texts} | {"a = b"}
    assert {row["cost"] for row in exported} >= {"-1.500000"}
