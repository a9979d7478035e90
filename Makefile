# Two commands matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NODE_STAMP := tools/node_modules/.installed

.PHONY: demo test bench lock setup node clean help

help:
	@echo "make demo   - set up, then build and send the sample edition to the outbox"
	@echo "make test   - set up, then run the whole test suite"
	@echo "make bench  - run the benchmarks in bench/ (not part of make test)"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml (needs uv)"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# The official MJML validator and other node tools used only by tests and benchmarks.
# Skipped (with a note) where npm is missing; CI installs Node.js first.
node: $(NODE_STAMP)

$(NODE_STAMP): tools/package.json tools/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tools && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "note: npm not found; MJML validator tests will be skipped outside CI"; fi

demo: $(STAMP)
	$(PY) -m newsletter demo

test: $(STAMP) node
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

bench: $(STAMP) node
	$(PY) bench/run_all.py

lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build .pytest_cache tools/node_modules
