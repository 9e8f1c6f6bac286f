"""Build the Dash app: one per process (Dash Pages keeps a global page registry)."""

from __future__ import annotations

import logging

import dash
from dash import Dash, html
from flask import Flask

from app.web import auth, boot, callbacks, ids, routes, security
from app.web.cache import make_cache
from app.web.registry import Registry
from app.web.services import Services, attach
from app.web.settings import ROOT, Settings, from_env

log = logging.getLogger(__name__)
PAGES_FOLDER = ROOT / "pages"
ASSETS_FOLDER = ROOT / "assets"


def set_up_now(app: Dash) -> None:
    """Finish Dash's own set-up now, not on the worker's first request.

    Dash registers the scripts it may serve during its first request (``_setup_server``, a
    before-request hook), and marks that done before doing it: in a threaded worker, the requests
    arriving meanwhile (a fresh page asks for a dozen scripts at once) found the list half-filled
    and got a 500 for react-dom or prop-types, and the page stayed blank. Running the same hook
    here, before the worker serves anyone, leaves it nothing to do later (it runs once). Not through
    a request of our own: Flask then refuses routes added after ``create_app`` (the benchmark's floor).
    """
    with app.server.test_request_context(app.config.requests_pathname_prefix):
        app._setup_server()


def create_app(settings: Settings | None = None) -> Dash:
    """The app for ``settings`` (default: from the environment); opens the default dataset unless told not to."""
    settings = settings or from_env()
    server = Flask("app.web")
    registry = Registry(settings.data)
    attach(server, Services(settings, registry, make_cache(server, settings)))
    app = boot.ProfileDash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash's stubs omit the Flask server it accepts
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        assets_folder=str(ASSETS_FOLDER),
        assets_ignore=boot.ASSETS_IGNORE,
        url_base_pathname=settings.url_base_pathname,
        title="Profile",
        update_title=None,  # type: ignore[arg-type]  # None turns the "Updating…" title off
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.layout = html.Div([dash.page_container], id=ids.APP_ROOT)
    auth.register(server, settings.url_base_pathname, settings.basic_auth, settings.trusted_user_header)
    security.register(app)
    routes.register(server, settings.url_base_pathname)
    boot.register(server, settings.url_base_pathname)
    callbacks.register(app)
    set_up_now(app)
    if settings.preload and registry.entries:
        try:
            registry.get()
        except Exception:  # a broken dataset must not stop the server: pages show the error instead
            log.exception("could not open the default dataset at start-up")
    return app
