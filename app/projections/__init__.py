"""The projections of spec §5, one module each, with one calling convention and one declaration.

``PROJECTIONS[name].run(ds, filters=..., truncation=..., **options)`` returns a
:class:`Projection`; ``to_json`` / ``to_csv`` turn it into the files the CLI
writes and the dashboard offers for download. ``PROJECTIONS`` is the registry of
declared projections (:mod:`app.projections.spec`, filled by :mod:`app.projections.catalog`):
each entry is a :class:`ProjectionSpec` with the projection's ``run``, options,
formats and page.
"""

from app.projections import catalog  # noqa: F401  (declares and registers the projections)
from app.projections.base import Projection, SplitFigure, to_csv, to_json
from app.projections.spec import SPECS, Option, OptionKind, ProjectionSpec, register_projection, unregister_projection

PROJECTIONS = SPECS

__all__ = ["PROJECTIONS", "SPECS", "Option", "OptionKind", "Projection", "ProjectionSpec", "SplitFigure",
           "register_projection", "to_csv", "to_json", "unregister_projection"]
