#!/usr/bin/env bash
# Writes .env (git-ignored) with fresh random secrets for `docker compose up`: compose reads
# every password and the JWT secret from it, none is committed. Keeps an existing .env.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -f .env ]]; then echo ".env exists; keeping it"; exit 0; fi
rand() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
umask 077
cat > .env <<ENV
CLIENTOPS_JWT_SECRET=$(rand 48)
POSTGRES_PASSWORD=$(rand 24)
RABBITMQ_PASSWORD=$(rand 24)
MINIO_ROOT_PASSWORD=$(rand 24)
GRAFANA_ADMIN_PASSWORD=$(rand 18)
ENV
echo "wrote .env with random secrets"
