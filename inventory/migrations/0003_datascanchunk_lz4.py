"""Store scan records faster: compact UTF-8 JSON, compressed with lz4 instead of pglz.

A 5,000-record chunk is about 3 MB of JSON; pglz made storing a 10,000-record scan take about
twice as long as lz4 (measured while building benchmarks/scan.py). PostgreSQL 14+ built with lz4
(Debian's and the official images are) supports it; elsewhere the column keeps pglz.
"""

from django.db import migrations, models

import inventory.models

SET_LZ4 = """
DO $$
BEGIN
    ALTER TABLE inventory_datascanchunk ALTER COLUMN records SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: scan records stay compressed with pglz';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_data_scan_chunks")]

    operations = [
        migrations.AlterField(
            model_name="datascanchunk",
            name="records",
            field=models.JSONField(encoder=inventory.models.CompactJSONEncoder),
        ),
        migrations.RunSQL(SET_LZ4, reverse_sql="ALTER TABLE inventory_datascanchunk ALTER COLUMN records SET COMPRESSION pglz"),
    ]
