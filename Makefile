# riskreg: `make run` starts the service with the demo organisation; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The stamp names the pyproject.toml files it installed, so unchanged ones reinstall nothing.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml | sha256sum | cut -c1-16)
SCHEMA_PYTEST := $(BIN)/pytest tests/schema -p schemathesis -o addopts="--strict-markers -p no:cacheprovider --timeout=600" -q

.PHONY: run test lint bench venv clean

$(STAMP): pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e ".[dev]"
	# The light client distribution: its offline verifier is also the server's.
	$(BIN)/python -m pip install -q -e "./client[verify]"
	# Reference attacks for the robustness tests. Its declared dependencies include
	# torchvision, which would replace the pinned CPU torch with a multi-GB build.
	$(BIN)/python -m pip install -q --no-deps torchattacks==3.5.1
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

run:
	@PYTHON=$(PYTHON) scripts/system-deps.sh run
	@$(MAKE) --no-print-directory venv
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test:
	@PYTHON=$(PYTHON) scripts/system-deps.sh test
	@$(MAKE) --no-print-directory venv
	@$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q
	$(SCHEMA_PYTEST)

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var artifacts
