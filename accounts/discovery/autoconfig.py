"""Thunderbird autoconfig (clientConfig v1.1), fetched over verified HTTPS only.

Both well-known places are asked at once; the autoconfig.<domain> answer wins over the
.well-known one. Every connection, redirect hops included, goes through `net.connect()`, so
the address policy (no loopback or private addresses unless allowed) and certificate checks
apply to each host. Redirects: at most MAX_REDIRECTS, HTTPS on the standard port only.
Bodies are read up to MAX_BYTES and parsed with defusedxml (no DTDs, no entities).
"""

import http.client
import logging
from urllib.parse import quote, urljoin, urlsplit

from accounts.discovery.autoconfig_xml import AutoconfigInvalid, parse
from accounts.discovery.parallel import background, first_best
from accounts.discovery.types import Discovery, EmailAddress
from mailbox.protocols import net
from mailbox.protocols.errors import MailProtocolError, ProtocolFailure, TimedOut
from mailbox.protocols.types import NetworkPolicy

log = logging.getLogger(__name__)

HTTPS_PORT = 443
MAX_BYTES = 100 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def config_urls(email: EmailAddress) -> list[str]:
    """Where a domain may publish its file, best first."""
    return [
        f"https://autoconfig.{email.domain}/mail/config-v1.1.xml"
        f"?emailaddress={quote(email.address, safe='@')}",
        f"https://{email.domain}/.well-known/autoconfig/mail/config-v1.1.xml",
    ]


def discover(email: EmailAddress, policy: NetworkPolicy, deadline: float) -> Discovery | None:
    urls = config_urls(email)
    with background(len(urls)) as executor:
        futures = [executor.submit(_from_url, url, email, policy) for url in urls]
        return first_best(futures, deadline)


def _from_url(url: str, email: EmailAddress, policy: NetworkPolicy) -> Discovery | None:
    try:
        return parse(fetch(url, policy), email)
    except (MailProtocolError, AutoconfigInvalid) as exc:
        log.debug("autoconfig %s: %s", url, exc)
        return None


class _PolicyConnection(http.client.HTTPConnection):
    """HTTPS whose socket comes from net.connect() + net.wrap(), never from http.client."""

    default_port = HTTPS_PORT  # so the Host header carries no port

    def __init__(self, host: str, policy: NetworkPolicy) -> None:
        super().__init__(host, HTTPS_PORT, timeout=policy.timeout)
        self._policy = policy

    def connect(self) -> None:
        sock = net.connect(self.host, self.port, self._policy)
        self.sock = net.wrap(sock, self.host, self.port, self._policy)


def fetch(url: str, policy: NetworkPolicy) -> bytes:
    """The body of a 200 answer at `url`, following checked redirects.

    Raises a MailProtocolError (ProtocolFailure for refused redirects, statuses and sizes).
    """
    for _ in range(MAX_REDIRECTS + 1):
        host, target = _checked(url)
        status, location, body = _get(host, target, policy)
        if status not in REDIRECT_STATUSES:
            if status != 200:
                raise ProtocolFailure(host, HTTPS_PORT, f"HTTP status {status}")
            return body
        if not location:
            raise ProtocolFailure(host, HTTPS_PORT, "a redirect without a Location")
        url = urljoin(url, location)
    raise ProtocolFailure(host, HTTPS_PORT, f"more than {MAX_REDIRECTS} redirects")


def _checked(url: str) -> tuple[str, str]:
    """(host, request target) of an https URL on the standard port; refuses anything else."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "https" or not host or port not in (None, HTTPS_PORT) or parts.username:
        raise ProtocolFailure(host or url[:100], HTTPS_PORT, "refused a non-HTTPS address")
    target = parts.path or "/"
    return host, f"{target}?{parts.query}" if parts.query else target


def _get(host: str, target: str, policy: NetworkPolicy) -> tuple[int, str | None, bytes]:
    """(status, Location, body) of one GET; the body is empty for redirects."""
    connection = _PolicyConnection(host, policy)
    try:
        connection.request("GET", target, headers={"Accept": "application/xml, text/xml"})
        response = connection.getresponse()
        if response.status in REDIRECT_STATUSES:
            return response.status, response.getheader("Location"), b""
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > MAX_BYTES:
            raise ProtocolFailure(host, HTTPS_PORT, "the file is too large")
        body = response.read(MAX_BYTES + 1)  # one byte more tells us it is too large
        if len(body) > MAX_BYTES:
            raise ProtocolFailure(host, HTTPS_PORT, "the file is too large")
        return response.status, None, body
    except TimeoutError as exc:
        raise TimedOut(host, HTTPS_PORT) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise ProtocolFailure(host, HTTPS_PORT, f"HTTP failed: {exc}") from exc
    finally:
        connection.close()
