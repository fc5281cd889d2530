"""Healthcheck of the web container: GET /healthz from the local gunicorn over plain HTTP.

Usage: python docker/healthz.py [PORT]  (exit 0 when healthy, 1 otherwise).

The request carries a Host header that Django accepts (the first usable ALLOWED_HOSTS entry,
else SITE_URL's host, as settings.py defaults to) and follows no redirect: /healthz is exempt
from the HTTPS redirect, so a redirect means the app is misconfigured.
"""

import http.client
import os
import sys
from urllib.parse import urlsplit


def site_host(environ: dict[str, str]) -> str:
    """The host name Django's ALLOWED_HOSTS check lets through."""
    for entry in environ.get("ALLOWED_HOSTS", "").split(","):
        entry = entry.strip().lstrip(".")
        if entry and "*" not in entry:
            return entry
    site = environ.get("SITE_URL", "http://127.0.0.1:8000")
    return urlsplit(site).hostname or "localhost"


def check(port: int, host: str) -> str | None:
    """None when /healthz answers 200, else what went wrong."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host})
        response = connection.getresponse()
        if response.status != 200:
            return f"/healthz answered {response.status} {response.reason}"
        return None
    except OSError as exc:
        return f"/healthz unreachable: {exc}"
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 8000
    problem = check(port, site_host(dict(os.environ)))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
