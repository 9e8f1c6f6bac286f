"""The cube file's format, declared once: the engine reads it (``cube_layout``), ``app.cube`` writes it.

One row per (eval_id, base_task, params, manifold, outcome) cell, in key order. Its lists are packed: each
list's values as little-endian integers of one width, one binary value per cell (a missing token count or
size as -1), so an open reads each column's data buffer as one numpy array; decoding Parquet's nested lists
took most of an open (1.1 s of 2.8 s at 2.5 M cells). The footer holds totals an open allocates up front.
"""

from __future__ import annotations

import numpy as np

KEYS: tuple[str, ...] = ("eval_id", "base_task", "params", "manifold", "outcome")
PACKED: dict[str, np.dtype] = {"hist_bin": np.dtype("<i4"), "hist_count": np.dtype("<i4"),
                               "dots_tokens": np.dtype("<i4"), "dots_bytes": np.dtype("<i4"),
                               "dots_row": np.dtype("<i8")}
FILE_METADATA = b"profile.cube"  # the footer's key: format, totals and largest values (JSON)
FORMAT = 1
