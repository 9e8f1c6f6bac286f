"""WSGI entry point: ``gunicorn app.wsgi:server``.

Each gunicorn worker imports this module once, so each builds its own app and
opens the dataset once; the figures they compute meet in the shared cache.
"""

from __future__ import annotations

import logging

from app.web import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")

app = create_app()
server = app.server
