# The two commands of the README: `make site` and `make test`. Each sets up .venv from the pinned
# requirements when it is missing or older than them, so a fresh clone needs only python3 and make.
# `make site` (and every editor's target) installs what running Dayori needs (requirements.lock); `make test`
# adds the test tools (requirements-dev.lock). Every target runs a `python -m dayori` command, which is how
# Windows, without make, runs the same (see docs/guide.md).
PYTHON ?= python3
# `make site BUILDER=properdocs` (or serve, check …) runs ProperDocs, MkDocs' maintained fork, from its own venv;
# `make test` builds the sample site with both and compares them (tests/test_builder_canary.py).
BUILDER ?= mkdocs
ifeq ($(BUILDER),properdocs)
VENV := .venv-properdocs
LOCK := requirements-properdocs.lock
LOCK_FLAGS := --no-deps
else
VENV := .venv
LOCK := requirements.lock
LOCK_FLAGS :=
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.dayori-installed
DEV_STAMP := $(VENV)/.dayori-dev-installed
TEMPLATES_STAMP := $(VENV)/.dayori-templates-compiled
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# pip compiles the packages it installs, but not an editable install's src/: where Python may not write
# bytecode (PYTHONDONTWRITEBYTECODE, as on CI machines; a read-only checkout) every build, and each of its
# processes, would compile the engine again (0.15 CPU s for all of it). Python ignores a file's bytecode once
# the file is edited, so a stale one costs nothing but that.
COMPILE := $(BIN)/python -m compileall -q src

# Reproducible site/: MkDocs dates the sitemap with SOURCE_DATE_EPOCH; the last commit's time is stable.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test fuzz bench check new-issue publish wheelhouse clean venv properdocs

# Material still names mkdocs as a dependency: ProperDocs' lock is complete and installed without resolving.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(LOCK_FLAGS) -r $(LOCK)
	$(PIP) --no-deps --no-build-isolation -e .
	$(COMPILE)
	touch $(STAMP)

# The theme's templates compiled into the venv, as pip compiles the packages' Python: a fresh checkout's first
# build (CI) does not compile them (see src/dayori/templatecache.py).
$(TEMPLATES_STAMP): $(STAMP)
	$(BIN)/python -m dayori.material.precompile
	touch $(TEMPLATES_STAMP)

$(DEV_STAMP): $(TEMPLATES_STAMP) requirements-dev.lock
	$(PIP) -r requirements-dev.lock
	touch $(DEV_STAMP)

site: $(TEMPLATES_STAMP)
	$(BIN)/python -m dayori site

# `make serve PORT=8001` when 8000 is taken.
PORT ?= 8000
serve: $(TEMPLATES_STAMP)
	$(BIN)/python -m dayori serve --port $(PORT)

venv: $(TEMPLATES_STAMP)

# The ProperDocs canary's venv (.venv-properdocs), which tests/test_builder_canary.py builds with.
properdocs:
	$(MAKE) --no-print-directory BUILDER=properdocs venv

test: $(DEV_STAMP) properdocs
	$(BIN)/ruff check src tests hooks scripts benchmarks testsupport
	$(BIN)/mypy
	$(BIN)/mypy --strict --follow-imports=silent src/dayori
	$(BIN)/python -m pytest -n 2

# `make bench ONLY=build` runs one section (see `python -m benchmarks --help`); benchmarks/ is not part of the product.
bench: $(DEV_STAMP)
	$(COMPILE)
	$(BIN)/python -m benchmarks $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

# The input fuzzer at length (tests/test_fuzz_input.py): new examples every run, about 400 per property.
fuzz: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 tests/test_fuzz_input.py --hypothesis-profile=fuzz

check: $(STAMP)
	$(BIN)/python -m dayori check

new-issue: $(STAMP)
	$(BIN)/python -m dayori new-issue

# `make publish TO=subscribers.csv DEPLOY=/var/www/dayori` (hourly from cron is safe: it publishes once).
publish: $(STAMP)
	$(BIN)/python -m dayori publish --to $(TO) $(if $(DEPLOY),--deploy $(DEPLOY))

# `make wheelhouse` (DIR=wheelhouse): wheels for Windows and Linux, for PCs that cannot reach PyPI.
DIR ?= wheelhouse
wheelhouse: $(STAMP)
	$(BIN)/python -m dayori wheelhouse $(DIR)

clean:
	rm -rf site
