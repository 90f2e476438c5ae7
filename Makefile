# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE_HOME := .sample
SAMPLE_LIBRARY := $(SAMPLE_HOME)/library.margin

.PHONY: run test lint snapshots bench sample clean docs

# Reinstall only when pyproject.toml changes. No pip upgrade: the pip that ships with the
# interpreter is the one a user has, so a dependency it would miss fails here first.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The sample library is built once from samples/ (delete .sample/ to build it again).
$(SAMPLE_LIBRARY): $(BIN)/.installed
	MARGIN_HOME=$(SAMPLE_HOME) $(BIN)/margin import samples/sources
	test ! -f samples/notes.margin.jsonld || MARGIN_HOME=$(SAMPLE_HOME) $(BIN)/margin merge samples/notes.margin.jsonld

sample: $(SAMPLE_LIBRARY)

run: $(SAMPLE_LIBRARY)
	MARGIN_HOME=$(SAMPLE_HOME) $(BIN)/margin

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

snapshots: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests -k snapshot --snapshot-update

lint: $(BIN)/.installed
	$(BIN)/python -m ruff check tui store index tests bench
	$(BIN)/python -m ruff format --check tui store index tests bench
	$(BIN)/python -m mypy store index
	$(BIN)/python -m pytest -q tests/test_layers.py

bench: $(BIN)/.installed
	$(BIN)/python bench/ingest_search.py
	$(BIN)/python bench/reader.py
	$(BIN)/python bench/anchoring.py
	$(BIN)/python bench/exchange.py
	$(BIN)/python bench/search_during_import.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(SAMPLE_HOME)

docs: $(BIN)/.installed
	$(BIN)/python -m tui.keys > docs/keybindings.md
