#!/usr/bin/env bash
# The whole test suite, set-up included: system packages (Dovecot, Postfix, Chromium), the
# virtualenv, lint, then pytest on PostgreSQL and the SQLite subset. Extra arguments go to the
# PostgreSQL pytest run (for example: scripts/test.sh tests/tasks -x).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
bash scripts/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"
in_ci=false
case "${CI:-}" in 1|true|TRUE|yes) in_ci=true ;; esac

echo "== lint"
ruff check .
ruff format --check .
DEBUG=true DATABASE_URL=sqlite://:memory: python manage.py makemigrations --check --dry-run >/dev/null

echo "== Redis"
DEBUG=true DATABASE_URL=sqlite:///:memory: python manage.py check_redis

postgres_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
if python - "$postgres_url" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=5).close()
except Exception as exc:
    print(f"PostgreSQL is not reachable at {sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  echo "== full suite on PostgreSQL ($postgres_url)"
  DATABASE_URL=$postgres_url python -m pytest "$@"
elif $in_ci; then
  echo "CI needs PostgreSQL for the full suite." >&2
  exit 1
else
  echo "== PostgreSQL is not reachable: full suite on SQLite instead"
  DATABASE_URL=sqlite:// python -m pytest "$@"
fi

echo "== SQLite subset (the embedded default must keep working)"
DATABASE_URL=sqlite:// python -m pytest -m "both_databases" -p no:randomly -q
