# Werkmaatje: `make run` starts the bot, `make test` checks it. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
BIN       := $(VENV)/bin

.PHONY: help run test test-fast lint typecheck data-validate pytest conversation-test bench train \
        venv venv-rasa \
        lock lock-rasa clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: venv venv-rasa ## start the action server, Rasa and the gateway (web chat on :8080)
	$(BIN)/werkmaatje run

test: venv venv-rasa lint typecheck data-validate pytest conversation-test ## ruff, mypy, data validation, pytest, conversation tests

test-fast: venv lint ## ruff, the layer check and the tests that start no process (-m "not e2e"), on every core
	$(BIN)/python -m pytest -m "not e2e" -n auto $(PYTEST_ARGS)

lint: venv ## ruff, and the layer contract (bot | actions -> store -> core) with import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

data-validate: venv venv-rasa ## check the training data (`rasa data validate`) and the text catalogue
	$(BIN)/werkmaatje data validate
	$(BIN)/werkmaatje texts check

conversation-test: venv venv-rasa ## the conversation tests in tests/conversations (rasa test)
	$(BIN)/werkmaatje train
	$(BIN)/werkmaatje data test

# pytest exits 5 when no test ran, so an empty run fails here too.
pytest: venv venv-rasa
	$(BIN)/werkmaatje train
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv venv-rasa ## run the benchmarks in bench/ (JSON lines on stdout)
	$(BIN)/werkmaatje train
	$(BIN)/python -m bench $(BENCH_ARGS)

train: venv venv-rasa ## train a model unless one matches the training data
	$(BIN)/werkmaatje train

venv: ## create or refresh .venv from requirements/project.lock
	@scripts/venv.sh $(VENV) requirements/project.lock editable

venv-rasa: ## create or refresh .venv-rasa from requirements/rasa.lock
	@scripts/venv.sh $(RASA_VENV) requirements/rasa.lock

lock: ## re-resolve the project's dependencies into requirements/project.lock
	scripts/lock.sh project

lock-rasa: ## re-resolve Rasa's dependencies into requirements/rasa.lock
	scripts/lock.sh rasa

clean: ## remove environments, models and local data
	rm -rf $(VENV) $(RASA_VENV) models .rasa var results .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
