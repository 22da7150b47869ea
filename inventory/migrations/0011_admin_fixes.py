"""Admin fixes (issue 15), if needed: reserved place in the migration chain, filled in by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_resource_budgets")]

    operations: list = []
