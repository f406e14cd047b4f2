# Two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
STORE  ?= var/store
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(VENV)/bin/carbonkg docs --out var/docs

# loads the bundled exports (unchanged files are skipped), then serves SPARQL and the pages
run: $(STAMP)
	$(VENV)/bin/carbonkg load data/registry-exports --store $(STORE)
	$(VENV)/bin/carbonkg serve --store $(STORE) --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) var build *.egg-info
