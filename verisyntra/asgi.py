"""ASGI entry point, for completeness; production runs the WSGI app under threaded gunicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")

application = get_asgi_application()
