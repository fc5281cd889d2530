"""The browser steps of an OAuth sign-in through the local provider (tests/accounts/conftest.py)."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.test import Client
from django.urls import reverse

from tests.harness.certs import TestCA

SITE_URL = "https://webmail.example.test"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start(client: Client, **form: str) -> Any:
    """Presses "Sign in with ..." (a gmail.com address unless told otherwise)."""
    form.setdefault("email", "alice@gmail.com")
    form.setdefault("provider", "gmail")
    return client.post(reverse("accounts:oauth_start"), form)


def consent(start_response: Any, test_ca: TestCA) -> str:
    """Follows the start redirect to the provider, which consents and answers the callback
    URL (path and query, as the browser would open it on our site)."""
    answer = requests.get(
        start_response["Location"],
        allow_redirects=False,
        verify=str(test_ca.ca_file),
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}" == SITE_URL
    return f"{callback.path}?{callback.query}"


def sign_in(client: Client, test_ca: TestCA, **form: str) -> Any:
    """The whole flow; answers the callback's response."""
    return client.get(consent(start(client, **form), test_ca))
