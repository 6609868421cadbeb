# Two commands set everything up on a fresh machine with Python 3.10-3.12:
#   make run   - virtual environment, install, `dvc repro`
#   make test  - virtual environment, install, the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Stage commands call `python` and `dvc`: they must be the virtual environment's.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install run test bench bench-small smoke report clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: install
	dvc repro

# One worker per core, one test file per worker (a file's tests share its fixtures), in the collection order
# conftest sets (the real-pipeline file first): pytest-xdist >= 3.7 would otherwise start the files with most tests first.
test: install
	python -m pytest -n auto --dist loadfile --no-loadscope-reorder

# Where the time and memory of a full `dvc repro` go, beside the scikit-learn peers, on the real data
# (every stage rerun: most of an hour on 2 cores). Writes benchmarks/results/bench.{json,md}, README's table
# and README's leaderboards (copies of metrics/leaderboards/*.md).
bench: install
	python -m pip install --quiet -e ".[bench]"
	python benchmarks/bench.py
	python benchmarks/readme_leaderboards.py

# The pipeline on a slice of the real archive, in a throwaway clone (what CI runs after the tests).
# The small-data suite: the default models beside TF-IDF logistic regression and fastText on
# small, short, imbalanced datasets cut from the fetched data (benchmarks/small_data.py).
bench-small: install
	python -m pip install --quiet -e ".[bench]"
	dvc repro fetch@imdb fetch@movies_metadata
	python benchmarks/small_data.py

smoke: install
	bash benchmarks/smoke_run.sh

# report.md: what the workspace changed against REF (default HEAD), each change tested, sized for a
# pull-request comment; report/full.md is the uncut report (FULL_LINK: where CI keeps it).
REF ?= HEAD
report: install
	textclf report --ref $(REF) --out report.md $(if $(FULL_LINK),--full-link $(FULL_LINK))

clean:
	rm -rf $(VENV) .pytest_cache
