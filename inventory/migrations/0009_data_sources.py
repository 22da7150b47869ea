"""Data sources and discovery scans (issue 16): reserved place in the migration chain, filled in by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_data_scan_cancel_and_liveness")]

    operations: list = []
