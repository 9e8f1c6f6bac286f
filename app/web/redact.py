"""What users see never names a path of the server: messages are rewritten before they are shown.

Errors from the engine and the registry name files as they were opened
(``/srv/datasets/rg/samples.parquet: column …``), which is right in a log and for the
CLI but tells a visitor of the dashboard how the server is laid out. The rule:
each dataset's folder becomes the dataset's name, the data root ``PROFILE_DATA``,
the cache folder ``CACHE_DIR`` and the application's folder ``.``; longer paths
are replaced first, so a dataset folder inside the root keeps its name.
"""

from __future__ import annotations

from pathlib import Path

from app.web.services import Services
from app.web.settings import ROOT


def _spellings(path: Path) -> set[str]:
    """A path as given and as resolved (a message may hold either)."""
    out = {str(path)}
    try:
        out.add(str(path.resolve()))
    except OSError:
        pass
    return {p for p in out if p not in ("", "/", ".")}


def replacements(services: Services) -> list[tuple[str, str]]:
    """(server path, what is shown instead), longest path first."""
    pairs: dict[str, str] = {}
    for entry in services.registry.entries:
        for spelling in _spellings(entry.path.parent):
            pairs.setdefault(spelling, entry.name)
    root = services.registry.root
    for spelling in _spellings(root.parent if root.suffix == ".json" else root):
        pairs.setdefault(spelling, "PROFILE_DATA")
    for spelling in _spellings(services.settings.cache_dir):
        pairs.setdefault(spelling, "CACHE_DIR")
    for spelling in _spellings(ROOT):
        pairs.setdefault(spelling, ".")
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def redact(text: str, services: Services) -> str:
    """``text`` with every known server path replaced (see the module's rule)."""
    for path, name in replacements(services):
        text = text.replace(path, name)
    return text
