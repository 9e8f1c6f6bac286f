"""The peer: the same four queries as SQL over the same Parquet, loaded into DuckDB's memory."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

Z = 1.96

_STATS = """
    count(*) FILTER (WHERE outcome = 'correct') AS correct,
    count(*) FILTER (WHERE outcome = 'incorrect') AS incorrect,
    count(*) FILTER (WHERE outcome = 'invalid') AS invalid,
    count(*) FILTER (WHERE outcome = 'truncated') AS truncated,
    sum(guess_rate) AS g_all,
    avg(completion_tokens) AS tokens_mean,
    quantile_cont(completion_tokens, 0.5) AS tokens_p50,
    quantile_cont(completion_tokens, 0.95) AS tokens_p95
"""

_RATES = """
SELECT *, greatest(least(accuracy, 1), 0) AS p FROM (
  SELECT *, (correct - g_all) / n AS accuracy,
         truncated / (correct + incorrect + invalid + truncated) AS truncation_rate,
         invalid / (correct + incorrect + invalid + truncated) AS invalid_rate
  FROM (SELECT *, correct + incorrect + invalid + truncated - g_all AS n FROM g)
)
"""

_WILSON = f"""
SELECT * EXCLUDE (p, c0, m0), c0 AS center, m0 AS margin, c0 - m0 AS lower, c0 + m0 AS upper FROM (
  SELECT *, (p + {Z}*{Z}/(2*n)) / (1 + {Z}*{Z}/n) AS c0,
         {Z} * sqrt(p*(1-p)/n + {Z}*{Z}/(4*n*n)) / (1 + {Z}*{Z}/n) AS m0
  FROM ({_RATES})
)
"""


class DuckPeer:
    """DuckDB with the samples table in memory (its default thread count)."""

    def __init__(self, parquet: Path):
        self.con = duckdb.connect()
        self.con.execute(f"CREATE TABLE s AS SELECT * FROM read_parquet('{parquet}')")

    def _stats(self, where: str, keys: list[str], params: list) -> pd.DataFrame:
        key_sql = ", ".join(keys)
        sql = f"WITH g AS (SELECT {key_sql}, {_STATS} FROM s WHERE {where} GROUP BY ALL) {_WILSON}"
        return self.con.execute(sql, params).df()

    def spiderweb(self) -> pd.DataFrame:
        return self._stats("true", ["eval_id", "base_task"], [])

    def surface(self, evals: list[str], task: str, a: str, b: str) -> pd.DataFrame:
        keys = ["eval_id", f"json_extract(params, '$.{a}') AS a", f"json_extract(params, '$.{b}') AS b"]
        return self._stats("eval_id IN (SELECT unnest(?)) AND base_task = ?", keys, [evals, task])

    def hazard(self, evals: list[str], bucket: int) -> pd.DataFrame:
        sql = f"""
        WITH e AS (
          SELECT eval_id, completion_tokens // {bucket} AS bin,
                 CASE WHEN outcome = 'invalid' THEN 'incorrect' ELSE outcome END AS o
          FROM s WHERE eval_id IN (SELECT unnest(?)) AND completion_tokens IS NOT NULL),
        c AS (
          SELECT eval_id, bin, count(*) AS d,
                 count(*) FILTER (WHERE o = 'correct') AS d_correct,
                 count(*) FILTER (WHERE o = 'incorrect') AS d_incorrect,
                 count(*) FILTER (WHERE o = 'truncated') AS d_truncated
          FROM e GROUP BY ALL)
        SELECT eval_id, bin,
          sum(d) OVER (PARTITION BY eval_id ORDER BY bin DESC) AS at_risk,
          d_correct / at_risk AS hazard_correct,
          d_incorrect / at_risk AS hazard_incorrect,
          d_truncated / at_risk AS hazard_truncated,
          sum(d_correct) OVER w / sum(d) OVER (PARTITION BY eval_id) AS cif_correct,
          sum(d_incorrect) OVER w / sum(d) OVER (PARTITION BY eval_id) AS cif_incorrect,
          sum(d_truncated) OVER w / sum(d) OVER (PARTITION BY eval_id) AS cif_truncated
        FROM c WINDOW w AS (PARTITION BY eval_id ORDER BY bin)
        ORDER BY eval_id, bin"""
        return self.con.execute(sql, [evals]).df()

    def compression(self, evals: list[str], task: str) -> pd.DataFrame:
        sql = """SELECT eval_id, json_extract_string(manifold, '$.id') AS "manifold.id", outcome,
                        completion_tokens, compressed_bytes
                 FROM s WHERE eval_id IN (SELECT unnest(?)) AND base_task = ?"""
        return self.con.execute(sql, [evals, task]).df()
