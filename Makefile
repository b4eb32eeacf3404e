# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job (floor backends on every Python found)
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup pythons run quick report test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

pythons: $(STAMP)
	bash scripts/provision-debian-pythons.sh

run: setup pythons
	$(PY) -m harness run --python all

quick: setup
	$(PY) -m harness run --quick

report: setup
	$(PY) -m harness report results/harness -o html/report

test: setup pythons
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) html .asv
