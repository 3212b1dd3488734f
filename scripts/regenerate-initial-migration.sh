#!/usr/bin/env bash
# Until the first release the schema has one generated migration, 0001_initial: regenerate it
# from the models. Hand-written migrations that follow it (database triggers and the like, with
# down_revision "0001_initial") are kept. After a release, add new migrations instead.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=migrations/versions
initial=$versions/0001_initial.py
work=$(mktemp -d)
db=$work/schema.sqlite3
aside=$work/later
mkdir -p "$aside"

# The generated migration is the one with no parent (whatever its file name). Alembic cannot
# autogenerate against an empty database while later revisions point at a missing
# 0001_initial, so those wait outside the folder until the new file exists.
shopt -s nullglob
generated_before=()
later=()
for file in "$versions"/*.py; do
    if grep -qE '^down_revision(: [^=]+)? = None' "$file"; then
        generated_before+=("$file")
    else
        later+=("$file")
    fi
done
restore() {
    for file in "$aside"/*.py; do
        mv "$file" "$versions/"
    done
}
trap restore EXIT
for file in "${later[@]}"; do
    mv "$file" "$aside/"
done

rm -f "$initial" "${generated_before[@]}"
APP_ENV=development DATABASE_URL="sqlite:///$db" .venv/bin/flask --app wsgi db migrate \
    --rev-id 0001_initial -m "initial schema" >"$work/migrate.log" 2>&1 \
    || { cat "$work/migrate.log" >&2; exit 1; }
generated=("$versions"/0001_initial_*.py)
if [[ ${#generated[@]} -ne 1 ]]; then
    cat "$work/migrate.log" >&2
    echo "Expected one generated 0001_initial migration" >&2
    exit 1
fi
mv "${generated[0]}" "$initial"
.venv/bin/ruff format --quiet "$initial" || true
restore
trap - EXIT
echo "Regenerated: $initial"
for file in "${later[@]}"; do
    echo "Kept: $file"
done
