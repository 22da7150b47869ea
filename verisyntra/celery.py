"""The Celery app (`celery -A verisyntra worker|beat`), configured from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")

app = Celery("verisyntra")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
