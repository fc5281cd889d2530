"""Real services for the test suite: mail servers, DNS, HTTPS, fault proxy, Redis, Celery.

Plain Python, no Django: each module starts one kind of throwaway server on loopback and
stops it again. The pytest fixtures that use them live in the `*_fixtures.py` plugins that
tests/conftest.py loads.
"""
