"""`manage.py rotate_data_source_keys`: re-encrypt every data source's DSN under the newest key.

Rotation: put the new Fernet key first in DATA_SOURCE_ENCRYPTION_KEYS (the old ones after it),
restart, run this command, then drop the old keys.
"""

from django.core.management.base import BaseCommand

from inventory.source_services import data_source_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt every data source's DSN under the first key of DATA_SOURCE_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated = data_source_keys_rotate()
        self.stdout.write(f"{rotated} data source DSN(s) re-encrypted under the first key")
