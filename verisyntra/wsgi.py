"""WSGI entry point: `gunicorn verisyntra.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")

application = get_wsgi_application()

# Outside DEBUG, never serve as a role row-level security does not hold (verisyntra.E002):
# gunicorn runs no system checks of its own.
from verisyntra.checks import refuse_unsafe_runtime_role  # noqa: E402 - needs the app registry loaded above

refuse_unsafe_runtime_role()
