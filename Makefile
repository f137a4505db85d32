# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)

.PHONY: run test install lint bench clean

$(STAMP): requirements-dev.txt layers/core/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	printf '#!/bin/sh\nPYTHONPATH="$(CURDIR)/layers/core:$(CURDIR)" exec "$(CURDIR)/$(PY)" -m pmrouter.cli "$$@"\n' > $(VENV)/bin/pmrouter
	chmod +x $(VENV)/bin/pmrouter
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m shared.localstack.run

test: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) bench/run_all.py
	$(PY) bench/order_placement.py
	$(PY) bench/catalog_search.py

clean:
	rm -rf $(VENV) .pytest_cache
