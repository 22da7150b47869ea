"""Data sources and discovery scans: the DataSource model, a scan's source and changes, and the
activity key (tenant, data source, schema, table) under a partial unique index, so re-scans update and never duplicate."""

import uuid

import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_data_scan_cancel_and_liveness")]

    operations = [
        migrations.CreateModel(
            name="DataSource",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("kind", models.CharField(choices=[("postgresql", "PostgreSQL"), ("mysql", "MySQL / MariaDB")], max_length=16)),
                ("dsn_encrypted", models.TextField(editable=False)),
                ("dsn_masked", models.CharField(editable=False, max_length=1000)),
                ("schedule", models.CharField(blank=True, default="", max_length=200)),
                ("next_run_at", models.DateTimeField(blank=True, null=True)),
                ("last_run_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now, editable=False
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now),
                ),
                (
                    "last_scan",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="inventory.datascan"
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="data_sources", to="inventory.tenant"
                    ),
                ),
            ],
            options={"ordering": ["created_at", "id"]},
        ),
        migrations.AddIndex(
            model_name="datasource",
            index=models.Index(fields=["tenant", "created_at", "id"], name="datasource_tenant_created_id"),
        ),
        migrations.AddIndex(
            model_name="datasource",
            index=models.Index(condition=models.Q(("next_run_at__isnull", False)), fields=["next_run_at"], name="datasource_due"),
        ),
        migrations.AddConstraint(
            model_name="datasource",
            constraint=models.UniqueConstraint(fields=("tenant", "name"), name="datasource_unique_name_per_tenant"),
        ),
        migrations.AddField(
            model_name="datascan",
            name="data_source",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="scans",
                to="inventory.datasource",
            ),
        ),
        migrations.AddField(
            model_name="datascan",
            name="discovery_changes",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="datascan",
            index=models.Index(
                condition=models.Q(("data_source__isnull", False)), fields=["data_source", "status"], name="datascan_source_status"
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="data_source",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="activities",
                to="inventory.datasource",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="source_schema",
            field=models.CharField(blank=True, editable=False, max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="source_table",
            field=models.CharField(blank=True, editable=False, max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="source_findings",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="source_changes",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="source_missing_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name="processingactivity",
            constraint=models.UniqueConstraint(
                condition=models.Q(("data_source__isnull", False)),
                fields=("tenant", "data_source", "source_schema", "source_table"),
                name="activity_unique_source_table",
            ),
        ),
    ]
