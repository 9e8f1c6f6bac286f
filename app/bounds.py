"""Every size limit in one place: what one figure, one page or one request may hold.

The CLI, the engine's checks, the figure builders and the dashboard all read these,
so a limit is changed once and the error messages that quote it follow.
"""

from __future__ import annotations

# hazard: tokens per bin (``--bucket-size``, the page's "Bucket (tokens)")
BUCKET_SIZE_DEFAULT = 256
BUCKET_SIZE_MIN = 1
BUCKET_SIZE_MAX = 1 << 20

# compression: dots drawn per figure (numbers always use every sample) and facet rows per figure
POINTS_PER_FIGURE = 20_000
MAX_FACETS = 16

# pages that draw one mark per eval (surface columns, compression rows, hazard curves) open on this many
MAX_GRID_EVALS = 8
