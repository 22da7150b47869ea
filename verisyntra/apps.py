"""The project app: installs the pool instrumentation and registers the system checks."""

from django.apps import AppConfig


class VerisyntraConfig(AppConfig):
    name = "verisyntra"
    verbose_name = "VeriSyntra"

    def ready(self) -> None:
        # Nothing here may touch the database: a connection made before the test databases
        # exist would keep the real database's parameters in its pool (conftest.py explains the guard).
        from django.db.models.signals import post_migrate

        from verisyntra import checks  # noqa: F401 - registers the checks
        from verisyntra.db import pools
        from verisyntra.db.security import database_security_after_migrate

        pools.install()
        post_migrate.connect(database_security_after_migrate, dispatch_uid="verisyntra-database-security")
