# Two commands for a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint typecheck bench eval clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/agent run

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check agent tray tests bench
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/run.py

eval: setup
	$(VENV)/bin/agent eval router ../shared/eval/router_dev.jsonl
	$(VENV)/bin/agent eval router ../shared/eval/router_dev2.jsonl
	for f in bench/unseen/router_unseen*.jsonl; do $(VENV)/bin/agent eval router $$f; done

clean:
	rm -rf $(VENV)
