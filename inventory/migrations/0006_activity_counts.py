"""The compliance summary's rollup: ActivityCount, kept by PostgreSQL statement triggers.

The summary used to group every activity of the tenant (15 ms of database CPU for 100,000 rows,
and growing with the tenant): the dominant cost of a dashboard, paid on every request. Counting
at write time costs one grouped upsert per statement instead, over the statement's own rows
(transition tables), so COPY, `bulk_create`, the data scans' INSERT ... SELECT, the admin and
cascades are all counted, in their own transaction. The index that served the grouping goes: it
was maintained on every inserted row for that query alone.

Lock order: every statement touches the counts it changes in key order, so two transactions that
write the same tenant wait for each other instead of deadlocking.
"""

import django.db.models.deletion
from django.db import migrations, models

ACTIVITIES = "inventory_processingactivity"
GROUP = "tenant_id, pdpl_category, legal_basis, cross_border_transfer"

APPLY_FUNCTION = f"""
CREATE FUNCTION inventory_activitycount_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inventory_activitycount AS c ({GROUP}, activities)
        SELECT {GROUP}, count(*) FROM new_rows GROUP BY {GROUP} ORDER BY {GROUP}
        ON CONFLICT ({GROUP}) DO UPDATE SET activities = c.activities + EXCLUDED.activities;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Most updates (a data scan deleted: data_scan_id set to NULL) change no count at all.
        INSERT INTO inventory_activitycount AS c ({GROUP}, activities)
        SELECT {GROUP}, sum(n) FROM (
            SELECT {GROUP}, 1 AS n FROM new_rows
            UNION ALL
            SELECT {GROUP}, -1 AS n FROM old_rows
        ) AS delta
        GROUP BY {GROUP} HAVING sum(n) <> 0 ORDER BY {GROUP}
        ON CONFLICT ({GROUP}) DO UPDATE SET activities = c.activities + EXCLUDED.activities;
    ELSE
        -- Only subtract from counts that exist: when a tenant is deleted, Django may delete its
        -- counts before its activities, and an upsert would then resurrect them.
        WITH gone AS (
            SELECT {GROUP}, count(*) AS n FROM old_rows GROUP BY {GROUP}
        ), locked AS (
            SELECT c.id, gone.n
            FROM inventory_activitycount AS c JOIN gone USING ({GROUP})
            ORDER BY c.tenant_id, c.pdpl_category, c.legal_basis, c.cross_border_transfer
            FOR UPDATE OF c
        )
        UPDATE inventory_activitycount AS c SET activities = c.activities - locked.n
        FROM locked WHERE c.id = locked.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION inventory_activitycount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM inventory_activitycount;
    RETURN NULL;
END
$$;

CREATE TRIGGER activitycount_insert AFTER INSERT ON {ACTIVITIES}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_activitycount_apply();
CREATE TRIGGER activitycount_update AFTER UPDATE ON {ACTIVITIES}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_activitycount_apply();
CREATE TRIGGER activitycount_delete AFTER DELETE ON {ACTIVITIES}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_activitycount_apply();
CREATE TRIGGER activitycount_truncate AFTER TRUNCATE ON {ACTIVITIES}
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_activitycount_truncate();
"""

# The activities that exist already. Writers are held off (SHARE ROW EXCLUSIVE, until this
# migration's transaction commits) so no row is written between the backfill and the triggers.
BACKFILL = f"""
LOCK TABLE {ACTIVITIES} IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO inventory_activitycount ({GROUP}, activities)
SELECT {GROUP}, count(*) FROM {ACTIVITIES} GROUP BY {GROUP};
"""

DROP_FUNCTIONS = f"""
DROP TRIGGER activitycount_insert ON {ACTIVITIES};
DROP TRIGGER activitycount_update ON {ACTIVITIES};
DROP TRIGGER activitycount_delete ON {ACTIVITIES};
DROP TRIGGER activitycount_truncate ON {ACTIVITIES};
DROP FUNCTION inventory_activitycount_apply();
DROP FUNCTION inventory_activitycount_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_activity_autovacuum_insert_scale")]

    operations = [
        migrations.CreateModel(
            name="ActivityCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "pdpl_category",
                    models.CharField(
                        choices=[
                            ("sensitive", "Category 1: Sensitive Personal Data"),
                            ("basic", "Category 2: Basic Personal Data"),
                            ("public", "Category 3: Public Data"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "legal_basis",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("consent", "Consent"),
                            ("contract", "Contract"),
                            ("legal_obligation", "Legal obligation"),
                            ("vital_interest", "Vital interest"),
                            ("public_interest", "Public interest"),
                            ("legitimate_interest", "Legitimate interest"),
                        ],
                        max_length=32,
                    ),
                ),
                ("cross_border_transfer", models.BooleanField()),
                ("activities", models.BigIntegerField(default=0)),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activity_counts",
                        to="inventory.tenant",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "pdpl_category", "legal_basis", "cross_border_transfer"),
                        name="activitycount_unique_group",
                    )
                ],
            },
        ),
        # The backfill takes its lock before the triggers exist, and both commit together.
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(APPLY_FUNCTION, reverse_sql=DROP_FUNCTIONS),
        migrations.RemoveIndex(model_name="processingactivity", name="activity_tenant_summary"),
    ]
