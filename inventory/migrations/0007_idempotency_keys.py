"""Idempotency keys for POSTs that write (issue 17): reserved place in the migration chain, filled in by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0006_activity_counts")]

    operations: list = []
