# Two commands for a newcomer: `make run` (embedded defaults) and `make test`.
# The data directory is the one `robian-media` uses when run by hand (ROBIAN_DATA_DIR, else the
# platform's: ~/.local/share/robian-media on Linux), so both talk to the same database and token.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# what `make run` needs, and what the tests and linters need on top
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev lint bench clean vendor-hls fuzz soak audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

## Embedded PostgreSQL, in-process Redis fallback, aiohttp serving media: nothing to provision.
## Serves on http://127.0.0.1:8080, ingests a synthesised demo sitting (espeak-ng voices when installed,
## tones otherwise; FFmpeg comes as a wheel) and prints the listener page's URL.
run: install
	$(BIN)/robian-media demo

## Installs what the tests need (apt packages, services), then runs them.
test: install-dev
	bash tests/setup-machine.sh
	$(BIN)/ruff check robian_media packager tests bench
	$(BIN)/mypy robian_media packager
	$(BIN)/pytest -q

## Hardening (docs/hardening.md): the API fuzzing at length, the 10-minute soak, the dependency audit.
FUZZ_EXAMPLES ?= 200
fuzz: install-dev
	ROBIAN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/fuzz

SOAK_MINUTES ?= 10
soak: install-dev
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --listeners 2000

## needs the network (PyPI's vulnerability database); not part of `make test`
audit: install-dev
	$(BIN)/pip install -q pip-audit
	$(BIN)/pip-audit --skip-editable

lint: install-dev
	$(BIN)/ruff format --check robian_media packager tests bench
	$(BIN)/ruff check robian_media packager tests bench
	$(BIN)/mypy robian_media packager

## The page's hls.js is committed (make run needs no node): refresh it from the npm release pinned in
## tests/e2e/package-lock.json after changing that pin (a test checks both are the same bytes).
HLS_JS_VERSION := $(shell sed -n 's/.*"hls.js": "\([0-9.]*\)".*/\1/p' tests/e2e/package.json)
vendor-hls:
	cd tests/e2e && npm ci --no-audit --no-fund
	rm -rf robian_media/static/vendor/hls.js-*
	mkdir -p robian_media/static/vendor/hls.js-$(HLS_JS_VERSION)
	cp tests/e2e/node_modules/hls.js/dist/hls.light.min.js tests/e2e/node_modules/hls.js/LICENSE \
		robian_media/static/vendor/hls.js-$(HLS_JS_VERSION)/
	@echo "hls.js $(HLS_JS_VERSION) vendored: update its path in robian_media/static/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
