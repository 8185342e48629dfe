"""Delete audit rows older than the retention period (AUDIT_RETENTION_DAYS).

Rows go a batch of ids per DELETE: one statement over a large PostgreSQL table would hold its
locks (and grow the WAL) for as long as the whole deletion takes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.audit.models import AuditLog

BATCH_SIZE = 5000


class Command(BaseCommand):
    help = "Delete audit log entries older than AUDIT_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help="Rows deleted per statement."
        )

    def handle(self, *args, days: int | None, dry_run: bool, batch_size: int, **options) -> None:
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("The retention must be at least one day.")
        if batch_size < 1:
            raise CommandError("The batch size must be at least one.")
        old = AuditLog.objects.older_than(days)  # the cutoff is fixed here, once
        if dry_run:
            self.stdout.write(f"{old.count()} audit entries are older than {days} days.")
            return
        deleted = 0
        while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch_size]):
            deleted += AuditLog.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(f"Deleted {deleted} audit entries older than {days} days.")
