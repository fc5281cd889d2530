.PHONY: run test lint format admin

# Sets everything up and runs the web app, the Celery workers and beat on http://127.0.0.1:8000.
run:
	bash scripts/run.sh

# Sets everything up (Dovecot, Postfix, Chromium, the virtualenv) and runs the whole test suite.
test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Creates another admin user interactively.
admin:
	.venv/bin/python manage.py createsuperuser
