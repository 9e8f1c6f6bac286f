"""The four projections of spec §5, one module each, with one calling convention.

``PROJECTIONS[name].run(ds, filters=..., truncation=..., **options)`` returns a
:class:`Projection`; ``to_json`` / ``to_csv`` turn it into the files the CLI
writes and the dashboard offers for download.
"""

from app.projections.base import Projection, to_csv, to_json
from app.projections import compression, hazard, spiderweb, surface

PROJECTIONS = {"spiderweb": spiderweb, "surface": surface, "compression": compression, "hazard": hazard}

__all__ = ["PROJECTIONS", "Projection", "to_csv", "to_json"]
