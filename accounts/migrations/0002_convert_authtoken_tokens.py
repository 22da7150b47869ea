"""Convert DRF's plaintext tokens (`authtoken_token`) into ApiTokens, then drop their table.

`rest_framework.authtoken` left INSTALLED_APPS with this change. Django then loads none of its
migrations and never touches its table again (the rows of `django_migrations` stay, inert), so the
table and its usable keys would stay in the database for ever: this migration converts each key
into an ApiToken holding only the key's digest, with its first 12 digits as prefix, so existing
clients keep working until API_TOKEN_TTL_DAYS from now, and then drops the table. The app's models
are not available here (its app is not installed), hence the SQL. On a database that never had the
table (a new install, the tests) it does nothing. Its stale content type and permissions are left
to `manage.py remove_stale_contenttypes` (other tables, such as the admin's log, may point at them).
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations

PREFIX_LENGTH = 12


def convert_authtoken_keys(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    ApiToken = apps.get_model("accounts", "ApiToken")
    now = dt.datetime.now(dt.UTC)
    days = settings.API_TOKEN_TTL_DAYS
    ApiToken.objects.using(connection.alias).bulk_create(
        ApiToken(
            user_id=user_id,
            name="converted from a DRF token",
            prefix=key[:PREFIX_LENGTH],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            created_at=created,
            expires_at=now + dt.timedelta(days=days) if days > 0 else None,
        )
        for key, user_id, created in rows
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(convert_authtoken_keys, migrations.RunPython.noop),
        # Irreversible in substance: the keys are gone. Going back leaves the ApiTokens (still working).
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
