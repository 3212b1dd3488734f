# The front door: `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export APP_ENV ?= development
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
GOVUK := node_modules/govuk-frontend/dist/govuk

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the make targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/govuk/.built: node_modules/.installed
	rm -rf static/govuk
	mkdir -p static/govuk
	cp $(GOVUK)/govuk-frontend.min.css $(GOVUK)/govuk-frontend.min.js static/govuk/
	cp -r $(GOVUK)/assets static/govuk/assets
	touch $@

.PHONY: setup
setup: $(VENV)/.installed static/govuk/.built ## Create the virtual environment and build front-end assets

.PHONY: migrate
migrate: setup ## Bring the database up to the latest migration
	$(FLASK) db upgrade

.PHONY: demo
demo: migrate ## Load the demo partnership, data and sign-ins
	$(FLASK) demo load

.PHONY: run
run: demo ## Set up, migrate, load the demo and serve on 127.0.0.1:$(PORT)
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

.PHONY: test
test: setup ## Run every test on SQLite and PostgreSQL, browser tests included
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/pytest -n 2 --dist loadgroup --db postgresql

.PHONY: bench-capture
bench-capture: setup ## Capture page weight and save latency, SQLite and PostgreSQL (not a test)
	$(BIN)/python scripts/bench_capture.py

.PHONY: lint
lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

.PHONY: clean
clean: ## Remove the virtual environment, installed assets and local database
	rm -rf $(VENV) node_modules static/govuk instance
