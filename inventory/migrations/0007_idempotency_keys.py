"""Idempotency keys for POSTs that write: the key, the request's fingerprint and the stored answer.

A replayed batch answer holds up to 10,000 ids (about 400 KB of JSON); lz4 compresses it faster
than pglz, as for the scan chunks (0003), where the server supports it.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SET_LZ4 = """
DO $$
BEGIN
    ALTER TABLE inventory_idempotencykey ALTER COLUMN response_body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: stored answers stay compressed with pglz';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_activity_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=64)),
                ("method", models.CharField(max_length=10)),
                ("path", models.TextField()),
                ("response_status", models.PositiveSmallIntegerField()),
                ("response_body", models.TextField()),
                ("response_headers", models.JSONField(default=dict)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("expires_at", models.DateTimeField()),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="inventory.tenant"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("tenant", "user", "key"), name="idempotencykey_unique_scope")],
                "indexes": [models.Index(fields=["expires_at"], name="idempotencykey_expires_at")],
            },
        ),
        migrations.RunSQL(SET_LZ4, reverse_sql="ALTER TABLE inventory_idempotencykey ALTER COLUMN response_body SET COMPRESSION pglz"),
    ]
