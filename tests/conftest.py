"""Fixtures shared by the whole suite. The real-server fixtures live in tests/harness/."""

pytest_plugins = [
    "tests.harness.mail_fixtures",
    "tests.harness.net_fixtures",
    "tests.harness.celery_fixtures",
    "tests.harness.browser_fixtures",
]
