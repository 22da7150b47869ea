"""Scan cancel and worker liveness: the `cancelled` status."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_idempotency_keys")]

    operations = [
        migrations.AlterField(
            model_name="datascan",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("processing", "Processing"),
                    ("completed", "Completed"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
    ]
