"""Synthetic completion texts for the benchmark: ``texts.parquet`` beside r12's samples, written once.

The probe's promise is that texts cost an open nothing; measuring it needs a texts file of a real
size (about 2 KB a completion: 8.8 M completions are ~18 GB of text). Texts are slices of a fixed
1 MiB corpus of English-like words at a different offset and length per row (uniform between half
and 1.5 × the mean), so they are varied and compress like prose, and cost one copy of a slice rather
than a Python string per row. They are streamed through the store's own ``TextWriter`` a chunk at a
time, so memory stays flat whatever the size.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.engine.meta import TEXTS_FILE
from app.engine.texts import TextWriter

WORDS = ("the of and to in is that for it as with was on be by at this are we answer step check count left right "
         "row column total sum next so then wait let me recount carefully first second third value equals plus "
         "minus times because therefore if not yes no again grid path cell move up down list sort order item "
         "number digit pair match find need consider case true false must could would should try result").split()
CORPUS_BYTES = 1 << 20
CHUNK_ROWS = 1 << 16
TEXTS_META = "dataset+texts.json"  # the same dataset with its texts declared, beside the plain dataset.json


def corpus(seed: int = 0) -> np.ndarray:
    """1 MiB of random words and sentence breaks, as uint8."""
    rng = np.random.default_rng(seed)
    words = rng.choice(len(WORDS), size=CORPUS_BYTES // 4)
    text = " ".join(WORDS[w] + ("." if i % 17 == 16 else "") for i, w in enumerate(words))
    return np.frombuffer(text.encode("ascii")[:CORPUS_BYTES], np.uint8)


def text_chunk(rows: np.ndarray, mean_bytes: int, source: np.ndarray) -> pa.Array:
    """Row-dependent slices of ``source``: a string array built from buffers, no Python string per row."""
    mix = (rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(20)
    lengths = (mean_bytes // 2 + mix % np.uint64(mean_bytes + 1)).astype(np.int64)
    starts = ((mix >> np.uint64(13)) % np.uint64(len(source) - 2 * mean_bytes - 1)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    data = np.concatenate([source[s:s + n] for s, n in zip(starts.tolist(), lengths.tolist())])  # views, one copy
    return pa.StringArray.from_buffers(len(rows), pa.py_buffer(offsets), pa.py_buffer(data))


def write_texts(meta_path: Path, mean_bytes: int, *, limit_rows: int | None = None, out: Path | None = None,
                log=sys.stderr) -> tuple[Path, float]:
    """Write synthetic texts for every sample row of ``meta_path`` (or the first ``limit_rows``).

    Returns (the texts file, seconds taken). The file goes to ``out`` (default: texts.parquet beside
    the samples, via a temporary name, so a half-written file is never taken for a finished one).
    """
    meta = json.loads(meta_path.read_text())
    n = pq.ParquetFile(meta_path.parent / meta["samples"]).metadata.num_rows
    n = min(n, limit_rows) if limit_rows is not None else n
    target = out or meta_path.parent / TEXTS_FILE
    tmp = target.with_name(f".{target.name}.tmp")
    source = corpus()
    t0 = time.perf_counter()
    writer = TextWriter(tmp)
    try:
        for start in range(0, n, CHUNK_ROWS):
            rows = np.arange(start, min(start + CHUNK_ROWS, n), dtype=np.int64)
            writer.add(rows, text_chunk(rows, mean_bytes, source))
            if start // CHUNK_ROWS % 16 == 15:
                done = start + len(rows)
                print(f"texts: {done:,} of {n:,} rows ({time.perf_counter() - t0:.0f} s)", file=log, flush=True)
        writer.close()
    except BaseException:
        writer.abort()
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)
    return target, time.perf_counter() - t0


def texts_meta(meta_path: Path, texts: Path) -> Path:
    """``dataset+texts.json``: ``meta_path``'s dataset with ``texts`` declared (the samples are shared)."""
    doc = json.loads(meta_path.read_text())
    doc["texts"] = texts.name
    out = meta_path.with_name(TEXTS_META)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out


def fits(texts: Path, samples: Path, mean_bytes: int) -> bool:
    """Whether ``texts`` was written for this samples file (one text a row, newer) at about ``mean_bytes``."""
    if not texts.is_file() or texts.stat().st_mtime < samples.stat().st_mtime:
        return False
    meta = pq.ParquetFile(texts).metadata
    if meta.num_rows != pq.ParquetFile(samples).metadata.num_rows or meta.num_rows == 0:
        return False
    col = meta.schema.names.index("text")
    size = sum(meta.row_group(g).column(col).total_uncompressed_size for g in range(meta.num_row_groups))
    return abs(size / meta.num_rows - mean_bytes) <= 0.25 * mean_bytes
