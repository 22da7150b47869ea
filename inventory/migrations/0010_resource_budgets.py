"""Resource budgets: staged NDJSON scans (issue 13), if needed: reserved place in the migration chain, filled in by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0009_data_sources")]

    operations: list = []
