# Two commands for a newcomer: `make run` (embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ROBIAN_DATA_DIR ?= $(CURDIR)/data
export ROBIAN_DATA_DIR

.PHONY: run test install lint bench clean fuzz soak audit

$(BIN)/robian-media: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/robian-media

## Embedded PostgreSQL, in-process Redis fallback, aiohttp serving media: nothing to provision.
## Serves on http://127.0.0.1:8080 and ingests a synthesised demo sitting (needs ffmpeg; espeak-ng for voices).
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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
