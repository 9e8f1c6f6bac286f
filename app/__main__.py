"""``python -m app``: the development server on http://127.0.0.1:8050 (HOST, PORT or --host/--port)."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the host/port flags and run the development server until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Serve the Profile dashboard.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")))
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloading")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from app.web import create_app
    from app.web.settings import from_env

    try:
        settings = from_env()
    except ValueError as exc:  # a malformed login setting: refuse to start open, in one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    names = app.server.extensions["profile"].registry.names
    print(f"Profile dashboard on http://{args.host}:{args.port}{settings.url_base_pathname} "
          f"(data: {settings.data}; datasets: {', '.join(names) or 'none found'}; cache: {settings.cache_backend})",
          file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
