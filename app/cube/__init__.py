"""The cube: what every projection needs of a dataset, per (point, outcome) cell, without its sample rows.

``spec`` declares it once (keys, measures, the token grid, the dots kept per point); ``duck`` and
``dask_engine`` run that declaration (DuckDB on one machine, Dask on a cluster); ``build`` reads a
dataset's sources and writes the cube beside a ``dataset.json`` that declares it. The engine opens
such a dataset with memory proportional to cells (``app.engine.cube_layout``).
"""
