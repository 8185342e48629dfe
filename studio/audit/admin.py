"""The audit log in the admin: read-only, filterable, exportable as CSV."""

from __future__ import annotations

import csv
import re

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditLog

CSV_FIELDS = [
    "created",
    "user",
    "workspace",
    "channel",
    "api_key",
    "session",
    "ip",
    "request_id",
    "generation_id",
    "model",
    "status",
    "error_code",
    "cached",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "latency_ms",
    "ttft_ms",
    "prompt",
    "response",
]


class _Echo:
    """A file-like object whose write returns the line, for a streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); prompts,
# responses, model names and request ids come from callers, so such cells get an apostrophe
# (OWASP). Spreadsheets skip leading blanks and line breaks and read the full-width signs as
# the ASCII ones, so those count too. Numbers (tokens, cost, latency) are not callers' text:
# they stay numbers, a negative one included.
FORMULA_START = re.compile(r"\s*[=+\-@＝＋－＠]|[\t\r]")


def _cell(row: AuditLog, name: str) -> object:
    value = getattr(row, name)
    if name == "created":
        return value.isoformat()
    if name == "api_key":
        return row.api_key.prefix if row.api_key else ""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        value = str(value)  # usernames and workspace names are callers' text too
    if isinstance(value, str) and FORMULA_START.match(value):
        return "'" + value
    return value


@admin.action(description=_("Export selected entries as CSV"))
def export_csv(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
    writer = csv.writer(_Echo())
    rows = queryset.select_related("user", "workspace", "api_key").iterator(chunk_size=500)
    lines = (writer.writerow([_cell(row, name) for name in CSV_FIELDS]) for row in rows)
    response = StreamingHttpResponse(
        _with_header(writer.writerow(CSV_FIELDS), lines), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _with_header(header: str, lines):
    yield header
    yield from lines


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = [
        "created",
        "user",
        "workspace",
        "channel",
        "model",
        "status",
        "total_tokens",
        "cost",
        "latency_ms",
        "cached",
    ]
    list_filter = ["status", "channel", "model", "cached", "created"]
    search_fields = ["user__username", "prompt", "response", "ip", "request_id"]
    date_hierarchy = "created"
    list_select_related = ["user", "workspace"]
    actions = [export_csv]
    show_full_result_count = False  # COUNT(*) over a large log on every page is slow

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False  # an audit trail is not edited; deletion is for retention only
