"""Delete audit records older than the retention period: Wagtail's log (pages and
other models) and whatever else the apps register through the
`register_audit_log_models` hook (learning/audit_log.py), such as attendance changes.
等保 level 3 asks for at least six months, so nothing younger than
XUEFA_AUDIT_MIN_RETENTION_DAYS (180) is ever deleted."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.audit_log import audit_log_models

MIN_RETENTION_DAYS = 180


class Command(BaseCommand):
    help = (
        "Delete audit log entries older than --older-than-days (default: "
        "XUEFA_AUDIT_RETENTION_DAYS); refuses anything under 180 days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, default=None)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would go; delete nothing."
        )

    def handle(self, *args, older_than_days=None, dry_run=False, **options):
        days = settings.XUEFA_AUDIT_RETENTION_DAYS if older_than_days is None else older_than_days
        if days < MIN_RETENTION_DAYS:
            raise CommandError(
                _(
                    "Audit records must be kept for at least %(min)s days (six months); "
                    "refusing to delete records younger than %(days)s days."
                )
                % {"min": MIN_RETENTION_DAYS, "days": days}
            )
        cutoff = timezone.now() - datetime.timedelta(days=days)
        with transaction.atomic():
            for records in audit_log_models():
                queryset = records.older_than(cutoff)
                count = queryset.count() if dry_run else queryset.delete()[0]
                verb = "would delete" if dry_run else "deleted"
                self.stdout.write(f"{records.label}: {verb} {count} older than {cutoff:%Y-%m-%d}")
