# Two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
STORE  ?= var/store
HOST   ?= 127.0.0.1
PORT   ?= 8000
FRONTEND       := server/frontend
FRONTEND_STAMP := $(FRONTEND)/node_modules/.installed-stamp

.PHONY: run test install docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the query page's SPARQL editor (CodeMirror 6 from the npm registry, pinned by package-lock.json)
# into server/frontend/node_modules (git-ignored); without npm the page works with a plain text area
$(FRONTEND_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@if command -v npm >/dev/null 2>&1 && (cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error); \
	then touch $@; else echo "warning: npm ci in $(FRONTEND) failed: the query page will have no editor" >&2; fi

install: $(STAMP) $(FRONTEND_STAMP)

test: $(STAMP) $(FRONTEND_STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(VENV)/bin/carbonkg docs --out var/docs

# loads the bundled exports (unchanged files are skipped), then serves SPARQL and the pages
run: $(STAMP) $(FRONTEND_STAMP)
	$(VENV)/bin/carbonkg load data/registry-exports --store $(STORE)
	$(VENV)/bin/carbonkg serve --store $(STORE) --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) var build *.egg-info $(FRONTEND)/node_modules
