"""`python manage.py pool_report`: the pools as the server sees them, with leak suspects and sizing advice.

Exit status: 0 when healthy or only warnings, 2 when something is critical (the server is
unreachable, or nearly out of connections), so it can back a monitoring check.
"""

from __future__ import annotations

import json
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from health import status as st
from health.report import build_pool_report, render_text
from verisyntra.messages import LANGUAGES

CRITICAL_EXIT = 2
CLEAR_SCREEN = "\033[H\033[2J"


class Command(BaseCommand):
    help = "Report the connection pools: configuration, live server connections, leak suspects, headroom and sizing."
    # The capacity check would connect before the report does, and print the same facts as noise.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output (one JSON object per refresh).")
        parser.add_argument("--watch", type=float, metavar="SECONDS", help="Refresh every SECONDS until Ctrl-C.")
        parser.add_argument("--lang", choices=LANGUAGES, default="en", help="Language of the text report.")
        parser.add_argument(
            "--idle-threshold",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Report connections idle in transaction this long as leak suspects (default POOL_LEAK_SUSPECT_SECONDS).",
        )

    def handle(self, *args, **options):
        threshold = options["idle_threshold"]
        if threshold is None:
            threshold = float(settings.POOL_LEAK_SUSPECT_SECONDS)
        watch = options["watch"]
        if watch is not None and watch <= 0:
            raise CommandError("--watch needs a positive number of seconds.")
        report = None
        try:
            while True:
                report = build_pool_report(threshold)
                if options["json"]:
                    self.stdout.write(json.dumps(report, ensure_ascii=False))
                else:
                    self.stdout.write((CLEAR_SCREEN if watch else "") + render_text(report, options["lang"]), ending="")
                self.stdout.flush()
                if watch is None:
                    break
                time.sleep(watch)
        except KeyboardInterrupt:
            pass
        if report is not None and report["status"] == st.CRITICAL:
            sys.exit(CRITICAL_EXIT)
