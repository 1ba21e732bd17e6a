# Two entry points for people (README): `make demo` and `make test`.  Everything they need is
# installed here: a venv, the package with its prebuilt lab extension, node packages for the
# UI tests, and Debian's chromium.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
UI_STAMP := ui-tests/node_modules/.installed
NODE_STAMP := node_modules/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# torch is pinned here (the machine's local CPU wheel), never in the package itself
TORCH := torch==2.13.0
PIP_QUIET := -q

.PHONY: demo test test-python test-ts test-ui install chromium lint clean bench fidelity

demo: $(STAMP)
	@rm -rf build/demo && mkdir -p build/demo
	$(BIN)/jupyter repro run examples/demo.ipynb -o build/demo/demo.ipynb
	@echo "--- re-running the recorded notebook: it must come back byte-identical ---"
	$(BIN)/jupyter repro run build/demo/demo.ipynb -o build/demo/demo-rerun.ipynb -q
	cmp build/demo/demo.ipynb build/demo/demo-rerun.ipynb && echo "byte-identical: yes"

install: $(STAMP)

$(STAMP): pyproject.toml package.json yarn.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -m pip install $(PIP_QUIET) "jupyterlab>=4.6,<4.7" hatchling hatch-nodejs-version \
	    hatch-jupyter-builder editables "$(TORCH)" 2>&1 | grep -v "is ignored: it is neither" || true
	PATH="$(BIN):$$PATH" $(PY) -m pip install $(PIP_QUIET) --no-build-isolation -e ".[test,dev,gpu,bench]" \
	    2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c "import repro_jupyter, torch, nbclient"
	touch $(STAMP)

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

$(UI_STAMP): ui-tests/package.json ui-tests/package-lock.json
	cd ui-tests && npm ci --no-audit --no-fund
	touch $(UI_STAMP)

test: lint test-python test-ts test-ui

test-python: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# the extension's node packages (jest among them); jlpm comes with the venv's jupyterlab.
# pip install -e runs jlpm install only while labextension/src is newer than the built
# extension (a new devDependency alone does not), hence a stamp of its own.
$(NODE_STAMP): package.json yarn.lock | $(STAMP)
	PATH="$(BIN):$$PATH" jlpm install
	touch $(NODE_STAMP)

# unit tests of the frontend's pure logic (labextension/src/__tests__, jest)
test-ts: $(NODE_STAMP)
	PATH="$(BIN):$$PATH" jlpm test

test-ui: $(STAMP) chromium $(UI_STAMP)
	PATH="$(BIN):$$PATH" jupyter labextension list 2>&1 | grep -E "repro-jupyter .*enabled.*OK"
	PATH="$(BIN):$$PATH" bash ui-tests/run.sh

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check repro_jupyter tests
	$(BIN)/mypy repro_jupyter
	PATH="$(BIN):$$PATH" jlpm check:schema
	PATH="$(BIN):$$PATH" jlpm lint:check

bench: $(STAMP)
	$(PY) -m bench $(if $(QUICK),--quick,)

# record + verify + four injected changes on every corpus notebook (10-20 min); prints the table.
# Exit 1 while any false drift or failed injection remains.  FIDELITY_ARGS="--only ID,ID" narrows it.
FIDELITY_JOBS ?= 2
fidelity: $(STAMP)
	@mkdir -p build
	$(PY) -m bench.fidelity --jobs $(FIDELITY_JOBS) --json build/fidelity.json $(FIDELITY_ARGS)

clean:
	rm -rf build dist lib repro_jupyter/labextension $(VENV) node_modules ui-tests/node_modules
