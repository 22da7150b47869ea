"""The audit trail's table, `audit_event`, and the trigger that makes it append-only.

One statement trigger refuses every UPDATE, DELETE and TRUNCATE of the table, whichever role sends
it and however few rows it would touch, so a mistaken code path, a cascade or a `manage.py flush`
pointed at the wrong database cannot rewrite history; it rolls back with the statement's transaction.
Only a role that may alter the table (its owner) can drop the trigger, which is itself a visible,
logged DDL statement.

The single exception: a TRUNCATE in one of Django's throwaway test databases (named `test_...`,
the prefix the test suite already insists on), where the test runner empties every table with
one TRUNCATE between tests.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

import audit.models

APPEND_ONLY = r"""
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING HINT = 'The audit trail is never changed or deleted (docs/operations.md, "Audit trail").';
END
$$;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER audit_event_append_only ON audit_event;
DROP FUNCTION audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [("inventory", "0009_data_sources")]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.UUIDField(default=audit.models.audit_event_id, editable=False, primary_key=True, serialize=False)),
                ("occurred_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False)),
                ("actor_user_id", models.BigIntegerField(blank=True, null=True)),
                ("actor_username", models.CharField(blank=True, default="", max_length=150)),
                ("actor_token_prefix", models.CharField(blank=True, max_length=32, null=True)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("api", "API"),
                            ("scan", "Data scan worker"),
                            ("admin", "Admin"),
                            ("command", "Management command"),
                            ("beat", "Celery beat"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("tenant.create", "Tenant created"),
                            ("activities.batch_create", "Processing activities written (batch)"),
                            ("data_scan.create", "Data scan submitted"),
                            ("data_scan.complete", "Data scan completed"),
                            ("data_scan.fail", "Data scan failed"),
                            ("data_scan.cancel", "Data scan cancelled"),
                            ("data_scan.discard", "Data scan's activities discarded"),
                            ("data_scan.retry", "Data scan retried"),
                            ("data_source.create", "Data source registered"),
                            ("data_source.update", "Data source changed"),
                            ("data_source.delete", "Data source deleted"),
                            ("data_source.scan_now", "Discovery scan started"),
                            ("data_source.scan_scheduled", "Scheduled discovery scan started"),
                            ("discovery.apply", "Discovery results applied to the record of processing"),
                        ],
                        max_length=64,
                    ),
                ),
                ("object_type", models.CharField(max_length=64)),
                (
                    "object_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=64), blank=True, default=list, size=None
                    ),
                ),
                ("object_count", models.PositiveIntegerField(default=0)),
                ("client_address", models.GenericIPAddressField(blank=True, null=True)),
                ("details", models.JSONField(blank=True, default=dict)),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="inventory.tenant",
                    ),
                ),
            ],
            options={
                "db_table": "audit_event",
                "ordering": ["-occurred_at", "-id"],
                "indexes": [models.Index(fields=["tenant", "occurred_at"], name="audit_event_tenant_time")],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
