# Two commands matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NODE_STAMP := tools/node_modules/.installed

.PHONY: demo test bench lock setup node clean help screenshots sample-images

help:
	@echo "make demo   - set up, then build and send the sample edition to the outbox"
	@echo "make test   - set up, then run the whole test suite"
	@echo "make bench  - run the benchmarks in bench/ (not part of make test)"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml (needs uv)"
	@echo "make screenshots - the README's pictures of the sample edition (needs Chromium)"
	@echo "make sample-images - draw the sample editions' pictures again (scripts/make_sample_images.py)"

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

# The README's screenshots: the sample edition 2026-11 in English, desktop (600 px) and phone
# (375 px), through `newsletter screenshot`, reduced to 256 colours into docs/screenshots/.
screenshots: $(STAMP)
	$(VENV)/bin/newsletter screenshot 2026-11 --lang en --width 600,375 -o build/screenshots/readme
	$(PY) scripts/optimise_png.py -o docs/screenshots build/screenshots/readme/2026-11-en-600.png build/screenshots/readme/2026-11-en-375.png

# The sample editions' pictures and logos, drawn by a script; tests/test_sample_images.py
# checks in make test that the committed files are its output.
sample-images: $(STAMP)
	$(PY) scripts/make_sample_images.py

lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build .pytest_cache tools/node_modules
