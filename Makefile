# Thin targets: the work is in scripts/, playbooks/ and tests/.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: deps test test-app lint

deps:
	scripts/install-deps

lint: deps
	$(VENV)/ruff check app tests
	$(VENV)/ruff format --check app tests

test-app: deps
	$(VENV)/pytest tests/app

test: lint test-app
