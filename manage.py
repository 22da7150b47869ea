#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    from django.core.management import execute_from_command_line

    from verisyntra.db.tenant_scope import all_tenants

    # Commands are operators' tools: they act for every tenant (row-level security's all-tenants scope).
    with all_tenants():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
