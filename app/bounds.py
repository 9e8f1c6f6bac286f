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

# names an import may write: labels, model/template/sampler, task names, group tags, view names, the keys
# and values of params and manifold (a longer one is refused at import; datasets written by other tools
# still open, and the pages clip what they show)
MAX_NAME_CHARS = 200

# pages that draw one mark per eval (surface columns, compression rows, hazard curves) open on this many
MAX_GRID_EVALS = 8

# spiderweb: polygons one radar (or bar chart) overlays; a selection of more evals leads with the eval × task
# matrix (one row per eval) and draws the radar for its first this many (by label), and its archetype notes
# name the evals of each archetype once instead of one sentence per eval
MAX_RADAR_EVALS = 8

# surface axes: a numeric param with more distinct values than this (in one task of one import) is binned
# for surfaces (``<key>_bin``, log2 bins, see app/importers/binning.py) instead of drawn as one column each
MAX_AXIS_VALUES = 12

# hazard: bins per figure; bins = longest completion of the selection // bucket size + 1 (a smaller bucket
# size is refused with the smallest one that fits)
MAX_HAZARD_BINS = 2_000

# what the dashboard serves: a figure's JSON larger than this is not sent (the page says how to narrow the
# view); the largest figure of the spec's r12 scale is ~0.9 MB (target 1.5 MB)
MAX_FIGURE_BYTES = 5 << 20

# what the pages and figures show of one name (label, model, tag, task, view, value) and of one sentence
# (a title, a note, a notice): longer text is cut with "…"; the data and the CSV keep it whole
MAX_TEXT_CHARS = 2_000

# a link: characters in its query string, parameters (a repeated key counts each time), characters in one
# parameter's value, and how deeply JSON in a parameter (``filters``) may nest (the grammar needs 3 levels)
MAX_QUERY_CHARS = 8_192
MAX_QUERY_PARAMS = 64
MAX_PARAM_CHARS = 4_096
MAX_JSON_DEPTH = 8

# a request body (Dash callbacks send a few KB) and how deeply its JSON may nest
MAX_REQUEST_BYTES = 1 << 20
MAX_BODY_JSON_DEPTH = 64

# the view cache: one entry (a figure's JSON, a table's CSV, a summary) larger than this is served but not cached
MAX_CACHE_ENTRY_BYTES = 8 << 20

# probe (/probe, analyze.py probe): completions listed per page, the token range's upper end, and how much
# of one completion's text a page carries (the first PREVIEW characters show; the rest up to TEXT_MAX opens
# on request; a longer text says how many characters are left out and how to get them all)
PROBE_LIMIT_DEFAULT = 50
PROBE_LIMIT_MAX = 200
PROBE_TOKENS_MAX = 1 << 31        # completion_tokens is int32: every count is below this
PROBE_OFFSET_MAX = 1 << 31
PROBE_PREVIEW_CHARS = 2_000
PROBE_TEXT_MAX_CHARS = 200_000
# probe: completions one engine call (``Dataset.completions``) or one ``analyze.py probe`` run may list;
# more come by offset
PROBE_CALL_LIMIT_MAX = 10_000

# a cube dataset's probe reads the completions of its selection from the samples on demand: at most this many
# (counted exactly from the cube before anything is read); a wider selection is asked to narrow its filters
PROBE_SOURCE_ROWS_MAX = 1_000_000
