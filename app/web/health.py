"""What /health answers: each part's state and one overall status a load balancer can act on.

* ``ok`` (200): every dataset found can be opened and the cache answers;
* ``degraded`` (200): figures are served, but a part is failing: the cache is
  unreachable (views are computed on every request) or some, not all, datasets
  cannot be opened (each named with its reason);
* ``unavailable`` (503): no figure can be served: no dataset found, or none of
  them can be opened.

It is polled, so it stays cheap: a dataset is checked by this worker's own open
or a footer probe redone only when its files change, the cache by one PING with
the cache's short timeout. It names datasets, never server paths, and says
nothing about the worker (no PID).
"""

from __future__ import annotations

from typing import Any

from app.web.services import Services

OK, DEGRADED, UNAVAILABLE = "ok", "degraded", "unavailable"


def report(services: Services) -> tuple[dict[str, Any], int]:
    """(the JSON body, the HTTP status) of /health."""
    datasets = services.registry.health()
    cache = services.cache.status()
    servable = sum(d.ok for d in datasets)
    if not servable:
        status = UNAVAILABLE
    elif not cache.reachable or servable < len(datasets):
        status = DEGRADED
    else:
        status = OK
    body = {"status": status, "datasets": [d.to_json() for d in datasets], "cache": cache.to_json()}
    return body, 503 if status == UNAVAILABLE else 200
