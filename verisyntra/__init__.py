"""VeriSyntra project package: settings, URLs, the Celery app and the database layer (`verisyntra.db`)."""

from verisyntra.celery import app as celery_app

__all__ = ("celery_app",)
