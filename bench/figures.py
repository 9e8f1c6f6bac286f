r"""``python -m bench.figures SNAPSHOT``: time of each figure builder, and of its ``to_json``, on recorded inputs.

``SNAPSHOT`` is a folder written by ``python -m tests.figures.snapshot record`` (its ``inputs/``
hold each builder call's pickled arguments), e.g. the r12 page views::

    PYTHONPATH=. python -m tests.figures.snapshot record /tmp/figsnap-r12 --data r12 --no-synthetic \
        --only 'data-(spiderweb-default|surface-task|compression-task|hazard-default|compare-default)$'
    PYTHONPATH=. python -m bench.figures /tmp/figsnap-r12

Timing the builders on the same pickled inputs keeps the engine and the projections out of the
numbers, so a change to ``app/figures`` is measured alone. Medians of ``--repeat`` runs, in ms.
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'call':<28}{'build ms':>10}{'to_json ms':>12}{'JSON KB':>9}")
    for path in sorted((args.snapshot / "inputs").glob("*.pkl")):
        module_name, call_args, kwargs = pickle.loads(path.read_bytes())
        build = importlib.import_module(module_name).build
        build_ms, json_ms = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fig = build(*call_args, **kwargs)
            t1 = time.perf_counter()
            text = fig.to_json()
            json_ms.append(1000 * (time.perf_counter() - t1))
            build_ms.append(1000 * (t1 - t0))
        print(f"{path.stem:<28}{statistics.median(build_ms):>10.1f}{statistics.median(json_ms):>12.1f}"
              f"{len(text) / 1024:>9.0f}")


if __name__ == "__main__":
    main()
