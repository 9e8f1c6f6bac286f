# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install system-deps run serve lint test test-fast bench demo r12 r12x10 clean

$(STAMP): requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-test.txt
	touch $@

install: $(STAMP)

system-deps:
	scripts/system-deps.sh

run: install  ## serve the dashboard on the bundled data at http://$(HOST):$(PORT)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app

serve: install  ## the same under gunicorn, as deployed (gunicorn.conf.py: gthread workers, timeouts, limits)
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) app.wsgi:server

lint: install  ## ruff (pyflakes, pycodestyle, import order, bugbear, docstrings) and mypy on app/
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install system-deps lint  ## lint, then the whole suite, browser tests included
	$(BIN)/python -m pytest -q

test-fast: install  ## unit tests only (no browser, no servers)
	$(BIN)/python -m pytest -q -m "not browser"

demo: install  ## regenerate the bundled dataset in data/
	$(BIN)/python analyze.py demo --out data

r12: install  ## the benchmark-scale dataset (≈ 8.8 M samples), never committed
	test -f r12/dataset.json || $(BIN)/python analyze.py demo --out r12 --scale r12

r12x10: install r12  ## r12 x 10 (≈ 88 M samples, 640 evals, resampled copies) as one Parquet file per eval, never committed
	test -f r12x10/dataset.json || $(BIN)/python -m bench.scale --make --base r12 --out r12x10 --copies 10

bench: install system-deps r12 r12x10  ## engine vs DuckDB vs a one-pass numpy limit (spec §9), ~2 KB of text per completion, the cube at r12 and r12 x 10, page speed
	$(BIN)/python -m bench --dataset r12 --texts-kb 2 --scale r12x10 --pages --out bench/results.md

clean:
	rm -rf $(VENV) .pytest_cache .cache
