"""``analyze.py probe``: the completions behind a selection, with what the model wrote.

The same engine call as the dashboard's /probe page (``Dataset.completions``): filters, outcomes,
a token range ``[MIN, MAX)`` or sample rows pick the completions; they come in the order (eval
label, task, tokens, row), a page at a time (``--limit``, ``--offset``). ``--format jsonl`` writes
one JSON object per completion (its text exact, with the repetition signal), ``json`` one document
with the query and the total, ``table`` one line per completion with the head and tail of its text
(control characters escaped, so a line is always one line). Stdout gets the listing, or with
``--output-dir`` the written file's path; notes (how many match, a dataset without text) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Any, BinaryIO

import pandas as pd

from app.bounds import PROBE_LIMIT_DEFAULT
from app.cli.projections import output_dir
from app.engine import OUTCOMES, Dataset
from app.engine.errors import InputError

FORMATS = ("table", "json", "jsonl")
SUFFIX = {"table": "txt", "json": "json", "jsonl": "jsonl"}
# the table shows this many characters from each end of a text
HEAD_CHARS = TAIL_CHARS = 48
FIELDS = ("row", "eval_id", "label", "base_task", "params", "outcome", "completion_tokens", "compressed_bytes",
          "text", "compression_ratio", "loop_period", "loop_share")


def register(sub: argparse._SubParsersAction) -> None:
    """The ``probe`` subcommand."""
    p = sub.add_parser("probe", help="list completions (what the model wrote) behind a selection",
                       description="List the completions a selection holds, in the order eval label, task, tokens, "
                                   "row, with their text and a repetition signal (compression ratio, the period "
                                   "and share of the longest repeated tail).")
    p.add_argument("dataset", metavar="DATASET", help="dataset.json or the folder holding it")
    p.add_argument("--filters", metavar="JSON", default=None,
                   help='JSON object, e.g. \'{"eval_id": ["3f9a1c"], "base_task": ["arithmetic"]}\'')
    p.add_argument("--outcome", nargs="+", action="extend", choices=OUTCOMES, metavar="O",
                   help=f"keep these outcomes ({', '.join(OUTCOMES)})")
    p.add_argument("--tokens", nargs=2, type=int, metavar=("MIN", "MAX"),
                   help="keep completions with MIN ≤ completion_tokens < MAX")
    p.add_argument("--row", nargs="+", action="extend", type=int, metavar="N", dest="rows",
                   help="keep these sample rows (positions in the samples file, the 'row' of each listing)")
    p.add_argument("--limit", type=int, default=PROBE_LIMIT_DEFAULT, metavar="N",
                   help=f"completions to list (default {PROBE_LIMIT_DEFAULT})")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N matching completions")
    p.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or jsonl")
    p.add_argument("--output-dir", metavar="DIR", default=None,
                   help="write probe.<txt|json|jsonl> there and print its path (default: the listing to stdout)")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    out = output_dir(args.output_dir) if args.output_dir is not None else None
    ds = Dataset.open(args.dataset)
    tokens = tuple(args.tokens) if args.tokens else None
    query: dict[str, Any] = {"filters": args.filters, "outcomes": args.outcome, "tokens": tokens, "rows": args.rows}
    frame = ds.completions(args.filters, outcomes=args.outcome, tokens=tokens, rows=args.rows, limit=args.limit,
                           offset=args.offset)
    total = int(frame.attrs["total"])
    if total == 0:
        raise InputError(_nothing(ds, args, tokens))
    if frame.empty and args.limit:
        raise InputError(f"--offset {args.offset:,} is past the last of the {total:,} matching completions")
    records = [_record(r) for r in frame.to_dict("records")]
    body = _render(records, args.format, ds, query, args, total)
    if out is not None:
        path = out / f"probe.{SUFFIX[args.format]}"
        path.write_bytes(body)
        print(path)
    else:
        stream = _stdout()
        stream.write(body)
        stream.flush()  # before the summary on stderr, so a terminal shows them in order
    shown = f"{args.offset + 1:,}–{args.offset + len(records):,}" if records else "none"
    more = args.offset + len(records) < total
    print(f"completions {shown} of {total:,}" + (f" (--offset {args.offset + len(records)} for more)" if more
                                                 else ""), file=sys.stderr)
    if not ds.has_text:
        print("this dataset holds no completion text (its source had none): completions are listed without it",
              file=sys.stderr)
    return 0


def _nothing(ds: Dataset, args: argparse.Namespace, tokens: tuple[int, int] | None) -> str:
    """Why nothing matched: how many the filters select, then what the other conditions asked for."""
    selected = ds.count_completions(args.filters)
    asked = []
    if args.outcome:
        asked.append(f"outcome {' or '.join(dict.fromkeys(args.outcome))}")
    if tokens:
        asked.append(f"tokens in [{tokens[0]}, {tokens[1]})")
    if args.rows:
        asked.append(f"row {', '.join(map(str, args.rows[:5]))}" + (" …" if len(args.rows) > 5 else ""))
    what = "the filters select" if args.filters else "the dataset holds"
    return (f"no completion matches: {what} {selected:,} completion(s)"
            + (f", none with {' and '.join(asked)}" if asked and selected else ""))


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """One completion as plain JSON values (NA → None, numpy → Python)."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        value = row[key]
        if value is None or (not isinstance(value, (dict, str)) and pd.isna(value)):
            out[key] = None
        elif key in ("row", "completion_tokens", "compressed_bytes", "loop_period"):
            out[key] = int(value)
        elif key in ("compression_ratio", "loop_share"):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def _render(records: list[dict[str, Any]], fmt: str, ds: Dataset, query: dict[str, Any],
            args: argparse.Namespace, total: int) -> bytes:
    """The listing as UTF-8 bytes (JSON is UTF-8 by definition; a terminal's encoding does not matter)."""
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    elif fmt == "json":
        doc = {"dataset": str(ds.path), "query": {**query, "limit": args.limit, "offset": args.offset},
               "total": total, "has_text": ds.has_text, "completions": records}
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    else:
        text = table(records, ds.has_text)
    return text.encode("utf-8")


def table(records: list[dict[str, Any]], has_text: bool) -> str:
    """One line per completion: identity, outcome, counts, signal, then the head … tail of the text."""
    header = ["row", "eval", "task", "outcome", "tokens", "bytes", "ratio", "loop", "params", "text"]
    lines = []
    for r in records:
        loop = f"{r['loop_period']}ch {r['loop_share']:.0%}" if r["loop_period"] is not None else ""
        lines.append([str(r["row"]), r["eval_id"], one_line(r["base_task"]), r["outcome"],
                      _count(r["completion_tokens"]), _count(r["compressed_bytes"]),
                      f"{r['compression_ratio']:.3f}" if r["compression_ratio"] is not None else "",
                      loop, one_line(json.dumps(r["params"], ensure_ascii=False, separators=(",", ":"))),
                      head_tail(r["text"]) if r["text"] is not None else ("(no text)" if has_text else "")])
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header) - 1)]
    return "".join("  ".join([c.ljust(w) for c, w in zip(row[:-1], widths)] + [row[-1]]).rstrip() + "\n"
                   for row in [header, *lines])


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def head_tail(text: str) -> str:
    """The first and last characters of ``text``, escaped onto one line, with the length between when cut."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS + 24:
        return one_line(text)
    left = len(text) - HEAD_CHARS - TAIL_CHARS
    return f"{one_line(text[:HEAD_CHARS])} …[{left:,} chars]… {one_line(text[-TAIL_CHARS:])}"


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# control, format (bidi overrides, zero-width), surrogate, private-use, unassigned, line/paragraph separators
_ESCAPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def one_line(text: str) -> str:
    r"""``text`` with every character that could break or reorder a terminal line escaped (``\n``, ``\u202e``)."""
    out = []
    for ch in text:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in _ESCAPED:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _stdout() -> BinaryIO:
    """Stdout as bytes (after anything already written as text)."""
    sys.stdout.flush()
    return sys.stdout.buffer


__all__ = ["register", "table", "one_line", "head_tail"]
