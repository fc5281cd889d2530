#!/bin/sh
# Entrypoint of every webmail container. The web service (gunicorn) applies database
# migrations before it serves, so the schema is current before any request or task (the
# workers wait for web to be healthy); then the container becomes its command, through exec
# so that stop signals reach it directly.
set -eu

if [ "${1:-}" = "gunicorn" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
