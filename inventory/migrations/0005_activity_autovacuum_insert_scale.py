"""Vacuum processing activities after 2 % new rows instead of PostgreSQL's default 20 %.

Batches and data scans only insert. The compliance summary is an index-only scan only while the
table's visibility map is current, i.e. after a vacuum; with the default, a 1,000,000-row table
takes 200,000 new rows before autovacuum visits it, and until then the planner falls back to a
sequential scan (docs/benchmarks.md, "Batch insert and summary").
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_activity_drop_redundant_fk_indexes")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE inventory_processingactivity SET (autovacuum_vacuum_insert_scale_factor = 0.02)",
            reverse_sql="ALTER TABLE inventory_processingactivity RESET (autovacuum_vacuum_insert_scale_factor)",
        ),
    ]
