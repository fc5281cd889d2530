# One image for every webmail service (web, worker, send-worker, beat): the command picks the
# role (see docker-compose.yml). Configuration comes from the environment (see .env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    MAIL_STORAGE_DIR=/data/messages \
    STATIC_ROOT=/app/staticfiles

RUN groupadd --system --gid 10001 webmail \
 && useradd --system --uid 10001 --gid webmail --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin webmail

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. The project is not a
# package (pyproject.toml: packages = []), so installing "." installs only its dependencies.
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

COPY . .

# Static files are collected into the image and served by whitenoise. Settings refuse to load
# without these secrets when DEBUG is off: throwaway values, for this command only.
RUN SECRET_KEY=build-only-throwaway-not-a-secret \
    MAIL_ENCRYPTION_KEYS=YnVpbGQtb25seS10aHJvd2F3YXktbm90LXNlY3JldCE= \
    python manage.py collectstatic --noinput \
 && mkdir -p /data/messages /data/beat \
 && chown -R webmail:webmail /data

# Code stays owned by root (read-only to the app); only /data is the app's to write.
USER webmail
EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["gunicorn", "webmail.wsgi:application", "--bind=0.0.0.0:8000", "--access-logfile=-"]
