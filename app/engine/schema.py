"""The dataset contract of spec §2: outcomes, columns, identities.

Every other module takes these names from here, so the rule lives once.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any, Callable

import pyarrow as pa

OUTCOMES: tuple[str, ...] = ("correct", "incorrect", "invalid", "truncated")
OUTCOME_CODE: dict[str, int] = {name: code for code, name in enumerate(OUTCOMES)}

SAMPLES_SCHEMA = pa.schema(
    [
        pa.field("eval_id", pa.string(), nullable=False),
        pa.field("base_task", pa.string(), nullable=False),
        pa.field("params", pa.string(), nullable=False),
        pa.field("manifold", pa.string(), nullable=True),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("completion_tokens", pa.int32(), nullable=True),
        pa.field("compressed_bytes", pa.int32(), nullable=True),
        pa.field("guess_rate", pa.float64(), nullable=False),
    ]
)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(SAMPLES_SCHEMA.names)
# Optional columns other tools may rely on; kept when present.
OPTIONAL_COLUMNS = {"text": pa.string(), "sample": pa.int32(), "output_bytes": pa.int32()}



def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


# What a file written by another tool (or an older version of this one) may hold in each public
# column: the same values in a wider or differently encoded type. Anything else is refused by name.
_ACCEPTED: dict[pa.DataType, tuple[str, Callable[[pa.DataType], bool]]] = {
    pa.string(): ("string (also large_string or dictionary-encoded)",
                  lambda t: _is_text(t) or (pa.types.is_dictionary(t) and _is_text(t.value_type))),
    pa.int32(): ("int32 (any integer type is read, if its values fit)", pa.types.is_integer),
    pa.float64(): ("float64 (float32 from older files is read)", pa.types.is_floating),
}


def column_type_problem(name: str, found: pa.DataType) -> str | None:
    """Why ``found`` cannot stand for the public column ``name`` (None when it can).

    An all-null column (type ``null``, as pandas writes an empty optional column) is accepted
    for the nullable columns.
    """
    want = SAMPLES_SCHEMA.field(name)
    what, accepts = _ACCEPTED[want.type]
    if accepts(found) or (want.nullable and pa.types.is_null(found)):
        return None
    return f"column '{name}' has type {found}; expected {what}"


EVAL_DIMS: tuple[str, ...] = ("eval_id", "model", "template", "sampler")
DIM_PREFIXES: tuple[str, ...] = ("params.", "manifold.", "groups.")


def eval_id(model: str, template: str, sampler: str) -> str:
    """First 6 hex of sha256("model|template|sampler"), as spec §2 fixes it."""
    key = f"{model}|{template}|{sampler}".encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:6]


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces: equal params always give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compressed_size(text: str) -> int:
    """gzip level 9 with mtime 0, so the size depends on the text alone."""
    return len(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def parse_tag(tag: str) -> tuple[str, str]:
    """Split a ``key:value`` group tag; the value may itself hold colons."""
    key, sep, value = tag.partition(":")
    if not sep or not key or not value:
        raise ValueError(f"group tag {tag!r} is not of the form key:value")
    return key, value
