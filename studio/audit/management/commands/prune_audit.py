"""Delete audit rows older than the retention period (AUDIT_RETENTION_DAYS)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.audit.models import AuditLog


class Command(BaseCommand):
    help = "Delete audit log entries older than AUDIT_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args, days: int | None, dry_run: bool, **options) -> None:
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("The retention must be at least one day.")
        old = AuditLog.objects.older_than(days)
        if dry_run:
            self.stdout.write(f"{old.count()} audit entries are older than {days} days.")
            return
        deleted, _ = old.delete()
        self.stdout.write(f"Deleted {deleted} audit entries older than {days} days.")
