# The two commands of the README: `make site` and `make test`. Each sets up .venv from the pinned
# requirements when it is missing or older than them, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dayori-installed

# Reproducible site/: MkDocs dates the sitemap with SOURCE_DATE_EPOCH; the last commit's time is stable.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test fuzz bench check new-issue clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/mkdocs build

# `make serve PORT=8001` when 8000 is taken.
PORT ?= 8000
serve: $(STAMP)
	$(BIN)/python -m dayori.material.serve --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check src tests hooks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

# The input fuzzer at length (tests/test_fuzz_input.py): new examples every run, about 400 per property.
fuzz: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests/test_fuzz_input.py --hypothesis-profile=fuzz

bench: $(STAMP)
	$(BIN)/python -m dayori.bench

check: $(STAMP)
	$(BIN)/python -m dayori check

new-issue: $(STAMP)
	$(BIN)/python -m dayori new-issue

clean:
	rm -rf site
