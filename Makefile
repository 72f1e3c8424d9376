# Doorstep — `make run` serves the demo, `make test` checks everything. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test check lint typecheck migrations-check schema schema-check pytest pytest-fast \
        test-heavy bench messages makemessages lock demo-reset clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Doorstep needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

messages: $(STAMP) ## Compile the zh-hans and en translation catalogs (no system gettext needed)
	@$(BIN)/python scripts/compile_messages.py

run: $(STAMP) messages ## Serve the demo jurisdiction on http://127.0.0.1:$(PORT)/ (SQLite in var/)
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@PORT=$(PORT) BIN=$(BIN) scripts/serve.sh

test: $(STAMP) messages lint typecheck migrations-check schema-check pytest ## Everything that guards quality: lint, types, migrations, API schema, the whole suite

check: lint typecheck migrations-check schema-check ## The static checks only

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy with django-stubs
	$(BIN)/mypy doorstep config

migrations-check: $(STAMP) ## Fail when models changed without a migration
	$(BIN)/python manage.py makemigrations --check --dry-run -v1

schema: $(STAMP) ## Regenerate the committed OpenAPI schema openapi/doorstep.yaml
	$(BIN)/python manage.py spectacular --lang zh-hans --validate --fail-on-warn --file openapi/doorstep.yaml

schema-check: $(STAMP) ## Fail when the API drifted from openapi/doorstep.yaml
	@$(BIN)/python manage.py spectacular --lang zh-hans --validate --fail-on-warn --file var/openapi-current.yaml
	@diff -u openapi/doorstep.yaml var/openapi-current.yaml \
	  || { echo "The API schema drifted: run 'make schema' and commit openapi/doorstep.yaml."; exit 1; }

pytest: $(STAMP) messages ## The pytest suite, browser tests included (DATABASE_URL selects the database)
	$(BIN)/pytest -n 2 --create-db -m "not heavy" $(PYTEST_ARGS)

pytest-fast: $(STAMP) messages ## The suite without browser tests, reusing the test database
	$(BIN)/pytest -n 2 --reuse-db -m "not heavy and not browser" $(PYTEST_ARGS)

test-heavy: $(STAMP) messages ## Slow suites kept out of `make test`
	$(BIN)/pytest --create-db -m heavy $(PYTEST_ARGS)

bench: $(STAMP) ## Run the benchmarks under bench/ and record them in docs/benchmarks.md
	$(BIN)/python bench/run.py $(BENCH_ARGS)

makemessages: $(STAMP) ## Extract UI strings into locale/ (needs GNU gettext on this machine)
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete --add-location file -i ".venv/*" -i "var/*" -i "bench/*"

lock: $(STAMP) ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]" && $(BIN)/python -m pip freeze --exclude-editable > requirements.lock

demo-reset: $(STAMP) ## Give every demo account a new password (written to var/demo-credentials.txt)
	$(BIN)/python manage.py seed_demo --reset-passwords

clean: ## Remove the virtualenv and the local database (var/)
	rm -rf $(VENV) var
