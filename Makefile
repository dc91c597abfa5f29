# The two commands: `make run` (the whole system on the local servers) and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
export WEB_SEED_DEMO_USERS ?= 1
# development only: lets the services start with the public development JWT secret
export CLIENTOPS_DEV_MODE ?= 1

.PHONY: run test test-shuffled install system-packages servers lint typecheck bench reliability

install:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@$$(command -v uv || echo $(UV)) sync --frozen --all-packages --quiet

system-packages:
	@scripts/system-packages.sh $(EXTRA_PACKAGES)

servers:
	@scripts/ensure-servers.sh

run: install system-packages servers
	$(PY) -m clientops_shared.devtools setup
	.venv/bin/honcho start -f Procfile

test: install servers
	@$(MAKE) --no-print-directory system-packages EXTRA_PACKAGES="chromium"
	.venv/bin/ruff check .
	.venv/bin/mypy shared/src services/*/src
	.venv/bin/pytest -q -p no:warnings $(PYTEST_ARGS)

# the integration, e2e and browser tiers in a random order (pytest-randomly); the seed is
# printed first and `make test-shuffled SEED=<n>` repeats that order
test-shuffled: install servers
	@$(MAKE) --no-print-directory system-packages EXTRA_PACKAGES="chromium"
	@seed=$${SEED:-$$($(PY) -c 'import random; print(random.randrange(2**32))')}; \
	echo "shuffled with seed $$seed (repeat: make test-shuffled SEED=$$seed)"; \
	set -x; .venv/bin/pytest -q -p no:warnings -p randomly --randomly-seed=$$seed \
		tests/integration tests/e2e tests/browser $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy shared/src services/*/src

# the fault suite at the issue's sizes on private RabbitMQ/PostgreSQL servers, three parts at once
# (tests/reliability/run.py); make test runs a smoke
reliability: install
	CLIENTOPS_RELIABILITY=full .venv/bin/python tests/reliability/run.py $(PYTEST_ARGS)

bench:
	$(PY) bench/run.py
