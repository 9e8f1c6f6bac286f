"""The cube declaration (``spec``) run by DuckDB: embedded, streaming, spilling to disk past its memory limit.

One SQL statement: the cells' measures, the token histogram, the dots, joined per cell and ordered by the keys.
DuckDB reads the Parquet files itself (local paths, or an fsspec filesystem registered with it) and the result
comes back as a stream of record batches, so neither the rows nor the cube are ever whole in Python.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from app.cube.spec import KEYS, MEASURES, POINT_KEYS, CubeSpec, Measure, dot_rank_sql
from app.engine.sources import ROW_FILE_SHIFT, SampleFiles

# a sum over no values is 0 (SQL's is NULL), as pandas' is; min and max of nothing stay NULL
_OPS = {"rows": "count(*)", "count": "count({c})", "sum": "coalesce(sum({c}), 0)", "min": "min({c})",
        "max": "max({c})"}
_SQL_TYPES = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE"}


def _measure(m: Measure) -> str:
    return f"{_OPS[m.op].format(c=m.column)}::{_SQL_TYPES[m.type]} AS {m.name}"


def _same(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}" for k in KEYS)


def sql(spec: CubeSpec) -> str:
    """The whole build over the view ``src`` (the sample rows with their ``row_key``)."""
    keys, point = ", ".join(KEYS), ", ".join(POINT_KEYS)
    rank = dot_rank_sql("row_key", spec.seed)
    return f"""
WITH cells AS (
    SELECT {keys}, {", ".join(_measure(m) for m in MEASURES)} FROM src GROUP BY ALL),
bins AS (
    SELECT {keys}, (completion_tokens // {spec.grid_step})::INTEGER AS bin, count(*)::BIGINT AS n
    FROM src WHERE completion_tokens IS NOT NULL GROUP BY ALL),
hist AS (
    SELECT {keys}, list(bin ORDER BY bin) AS hist_bin, list(n ORDER BY bin) AS hist_count FROM bins GROUP BY ALL),
ranked AS (
    SELECT {keys}, completion_tokens, compressed_bytes, row_key FROM src
    QUALIFY row_number() OVER (PARTITION BY {point} ORDER BY {rank}, row_key) <= {spec.dots_per_point}),
dots AS (
    SELECT {keys}, list(completion_tokens ORDER BY row_key) AS dots_tokens,
           list(compressed_bytes ORDER BY row_key) AS dots_bytes, list(row_key ORDER BY row_key) AS dots_row
    FROM ranked GROUP BY ALL)
SELECT {", ".join(f"c.{k}" for k in KEYS)}, {", ".join(f"c.{m.name}" for m in MEASURES)},
       coalesce(h.hist_bin, []::INTEGER[]) AS hist_bin, coalesce(h.hist_count, []::BIGINT[]) AS hist_count,
       coalesce(d.dots_tokens, []::INTEGER[]) AS dots_tokens, coalesce(d.dots_bytes, []::INTEGER[]) AS dots_bytes,
       coalesce(d.dots_row, []::BIGINT[]) AS dots_row
FROM cells c LEFT JOIN hist h ON {_same("c", "h")} LEFT JOIN dots d ON {_same("c", "d")}
ORDER BY {", ".join(f"c.{k} NULLS FIRST" for k in KEYS)}
"""


def source_sql(files: SampleFiles) -> str:
    """The sample rows in their public types, each with its row key (file index, row in file)."""
    return f"""
SELECT s.eval_id::VARCHAR AS eval_id, s.base_task::VARCHAR AS base_task, s.params::VARCHAR AS params,
       s.manifold::VARCHAR AS manifold, s.outcome::VARCHAR AS outcome,
       s.completion_tokens::INTEGER AS completion_tokens, s.compressed_bytes::INTEGER AS compressed_bytes,
       s.guess_rate::DOUBLE AS guess_rate, (f.idx << {ROW_FILE_SHIFT}) | s.file_row_number AS row_key
FROM read_parquet($files, filename = true, file_row_number = true, union_by_name = true) s
JOIN files f ON s.filename = f.filename
"""


def build(files: SampleFiles, spec: CubeSpec, batch_rows: int = 65_536,
          memory_limit: str | None = None) -> Iterator[pa.RecordBatch]:
    """Run the build; the cube's rows in key order, as record batches (the connection closes at the end)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="profile-cube-") as spill:
        con = duckdb.connect()
        try:
            con.execute(f"SET temp_directory = '{Path(spill).as_posix()}'")
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            if files.fs is not None:
                con.register_filesystem(files.fs)
            urls = files.urls()
            con.register("files", pa.table({"filename": urls, "idx": pa.array(range(len(urls)), pa.int64())}))
            con.execute(f"CREATE TEMP VIEW src AS {source_sql(files)}".replace("$files", _list(urls)))
            reader = con.sql(sql(spec)).to_arrow_reader(batch_rows)
            yield from reader
        finally:
            con.close()


def _list(urls: list[str]) -> str:
    return "[" + ", ".join("'" + u.replace("'", "''") + "'" for u in urls) + "]"
