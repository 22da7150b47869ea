"""`manage.py activity_counts [--tenant ID] [--rebuild]`: check the compliance summary's rollup."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inventory.activity_counts import activity_counts_drift, activity_counts_rebuild


class Command(BaseCommand):
    help = (
        "Compare the compliance summary's counts (kept by database triggers) with the processing "
        "activities; exit 1 if they differ. With --rebuild, recount them first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", dest="tenant_id", help="Only this tenant (its id).")
        parser.add_argument("--rebuild", action="store_true", help="Recount from the activities (writers wait meanwhile).")

    def handle(self, *args, tenant_id: str | None, rebuild: bool, **options):
        if rebuild:
            groups = activity_counts_rebuild(tenant_id=tenant_id)
            self.stdout.write(f"rebuilt: {groups} groups counted")
        drift = activity_counts_drift(tenant_id=tenant_id)
        for row in drift:
            self.stdout.write(
                f"tenant {row.tenant_id} {row.pdpl_category}/{row.legal_basis or '-'}/"
                f"{'cross-border' if row.cross_border_transfer else 'domestic'}: stored {row.stored}, actual {row.actual}"
            )
        if drift:
            raise CommandError(f"{len(drift)} groups differ; run with --rebuild to recount them.")
        self.stdout.write("activity counts match the processing activities")
