# Two commands for a newcomer: `make run` (embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ROBIAN_DATA_DIR ?= $(CURDIR)/data
export ROBIAN_DATA_DIR

.PHONY: run test install lint bench clean vendor-hls fuzz soak audit

$(BIN)/robian-media: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/robian-media

## Embedded PostgreSQL, in-process Redis fallback, aiohttp serving media: nothing to provision.
## Serves on http://127.0.0.1:8080, ingests a synthesised demo sitting (espeak-ng voices when installed,
## tones otherwise; FFmpeg comes as a wheel) and prints the listener page's URL.
run: install
	$(BIN)/robian-media demo

## Installs what the tests need (apt packages, services), then runs them.
test: install
	bash tests/setup-machine.sh
	$(BIN)/ruff check robian_media packager tests bench
	$(BIN)/mypy robian_media packager
	$(BIN)/pytest -q

## Hardening (docs/hardening.md): the API fuzzing at length, the 10-minute soak, the dependency audit.
FUZZ_EXAMPLES ?= 200
fuzz: install
	ROBIAN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/fuzz

SOAK_MINUTES ?= 10
soak: install
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --listeners 2000

## needs the network (PyPI's vulnerability database); not part of `make test`
audit: install
	$(BIN)/pip install -q pip-audit
	$(BIN)/pip-audit --skip-editable

lint: install
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
