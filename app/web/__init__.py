"""The dashboard: a Dash app (Pages in ``pages/``) hosted on Flask.

``create_app`` wires settings → dataset registry → cache → routes → callbacks;
``app.wsgi:server`` is what gunicorn serves and ``python -m app`` runs locally.
"""

from app.web.factory import create_app

__all__ = ["create_app"]
