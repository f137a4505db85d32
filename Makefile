# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The local EVM (anvil), the pinned Solidity compiler and the ConditionalTokens artifact come from npm
# (contracts/package.json, locked), into contracts/node_modules.
CHAIN_TOOLS := contracts/node_modules/.installed
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)

.PHONY: run test install lint bench clean

$(STAMP): requirements-dev.txt layers/core/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	printf '#!/bin/sh\nPYTHONPATH="$(CURDIR)/layers/core:$(CURDIR)" exec "$(CURDIR)/$(PY)" -m pmrouter.cli "$$@"\n' > $(VENV)/bin/pmrouter
	chmod +x $(VENV)/bin/pmrouter
	touch $(STAMP)

$(CHAIN_TOOLS): contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(CHAIN_TOOLS)

install: $(STAMP) $(CHAIN_TOOLS)

run: $(STAMP) $(CHAIN_TOOLS)
	$(PY) -m shared.localstack.run

test: $(STAMP) $(CHAIN_TOOLS)
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP) $(CHAIN_TOOLS)
	$(PY) bench/run_all.py
	$(PY) bench/order_placement.py
	$(PY) bench/catalog_search.py
	$(PY) bench/chain_settlement.py
	$(PY) bench/stream_latency.py
	$(PY) bench/matching_quality.py

clean:
	rm -rf $(VENV) .pytest_cache contracts/node_modules
