#!/usr/bin/env bash
# Until the first release there is one migration: regenerate it from the models.
# After a release, add a new migration with `flask db migrate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
db=$(mktemp -d)/schema.sqlite3
rm -f migrations/versions/*.py
APP_ENV=development DATABASE_URL="sqlite:///$db" .venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null 2>&1
.venv/bin/ruff format --quiet migrations/versions || true
echo "Regenerated: $(ls migrations/versions)"
