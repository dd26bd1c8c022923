# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= $(if $(wildcard relaydesk.toml),relaydesk.toml,config.example.toml)

.PHONY: run test install install-test bench clean

$(BIN)/relaydesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

install: $(BIN)/relaydesk

$(VENV)/.test-installed: $(BIN)/relaydesk
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

install-test: $(VENV)/.test-installed

run: install
	$(BIN)/relaydesk serve --config $(CONFIG)

# System packages (Dovecot, Chromium) first, then the layers contract, then the whole suite.
test: install-test
	.ci/system-packages
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/imap.py
	$(BIN)/python bench/imap_latency.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/corpus.py
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) .pytest_cache
