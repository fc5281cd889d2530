#!/usr/bin/env bash
# Sets everything up and runs the whole app on this machine: the web server, a Celery worker
# for sync, a dedicated Celery worker for sending, and Celery beat (see Procfile).
# First run: writes a development .env with fresh secrets and creates an admin user.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"
env_file=${WEBMAIL_ENV_FILE:-.env}
export WEBMAIL_ENV_FILE=$env_file
export WEBMAIL_PORT=${WEBMAIL_PORT:-8000}

if [ ! -e "$env_file" ]; then
  python - "$env_file" <<'PY'
import secrets, sys
from cryptography.fernet import Fernet
with open(sys.argv[1], "w") as out:
    out.write(
        "# Written by `make run` for development on this machine. See .env.example.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"MAIL_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
    )
PY
  chmod 600 "$env_file"
  echo "Wrote $env_file with fresh development secrets."
fi

python manage.py check_redis >/dev/null
DATA_DIR=$(DJANGO_SETTINGS_MODULE=webmail.settings python -c \
  "from django.conf import settings; print(settings.DATA_DIR)")
export DATA_DIR
mkdir -p "$DATA_DIR"
python manage.py migrate --no-input -v 0
hint=$(python manage.py ensure_first_admin --url "http://127.0.0.1:$WEBMAIL_PORT")

url="http://127.0.0.1:$WEBMAIL_PORT"
print_hint_when_up() {
  for _ in $(seq 1 120); do
    if python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/healthz" 2>/dev/null; then
      printf '\nWebmail is running at %s  —  %s  (Ctrl-C stops it)\n\n' "$url" "$hint"
      return
    fi
    kill -0 $$ 2>/dev/null || return # $$ is honcho once this shell has exec'd it
    sleep 0.5
  done
}
print_hint_when_up &
# honcho takes this shell's pid, so a stop signal (Ctrl-C, kill, a process manager) reaches
# it exactly once: forwarded from a bash trap as well, it arrived twice, and honcho's handler
# (which prints) is not safe to re-enter.
exec honcho start -f Procfile -e "$env_file"
