"""`python manage.py pool_report`: the pools as the server sees them, with leak suspects and sizing advice.

Its status follows the same rules as `GET /health/connection-pools` (`health.selectors.server_findings`).
Exit status: 0 when healthy or only warnings, 2 when something is critical (the server is
unreachable, or nearly out of connections), so it can back a monitoring check; 1 when the report
could not be made (a wrong option included: argparse's own 2 would read as critical).
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
USAGE_EXIT = 1
ARGPARSE_USAGE_EXIT = 2
# Home and erase: a terminal redraws the report in place; a file or a pipe would keep the bytes.
CLEAR_SCREEN = "\033[H\033[2J"


class Command(BaseCommand):
    help = (
        "Report the connection pools: configuration, live server connections, leak suspects, headroom and sizing. "
        "The status uses the rules of GET /health/connection-pools. "
        "Exit status: 0 healthy or only warnings; 2 critical (a server unreachable or nearly out of connections); "
        "1 the report could not be made (a wrong option, a failed command)."
    )
    # The capacity check would connect before the report does, and print the same facts as noise.
    requires_system_checks: list = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_exit = parser.exit

        def exit(status=0, message=None):
            # argparse ends a usage error with 2, this command's "critical": keep 2 for the pools' state.
            argparse_exit(USAGE_EXIT if status == ARGPARSE_USAGE_EXIT else status, message)

        parser.exit = exit
        return parser

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
        # Only a terminal understands the clear-screen codes; into a file or a pipe the refreshes follow each other.
        clear = CLEAR_SCREEN if watch and self.stdout.isatty() else ""
        report = None
        refreshes = 0
        try:
            while True:
                report = build_pool_report(threshold)
                if options["json"]:
                    self.stdout.write(json.dumps(report, ensure_ascii=False))
                else:
                    separator = "\n" if refreshes and not clear else ""
                    self.stdout.write(clear + separator + render_text(report, options["lang"]), ending="")
                refreshes += 1
                self.stdout.flush()
                if watch is None:
                    break
                time.sleep(watch)
        except KeyboardInterrupt:
            pass
        if report is not None and report["status"] == st.CRITICAL:
            sys.exit(CRITICAL_EXIT)
