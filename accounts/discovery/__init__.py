"""Server discovery for an email address (issue 3, point 4), without Django.

    discover("someone@example.com", policy) -> Discovery | None

1. The provider table (providers.json) answers by the address's domain, with no network.
2. Otherwise three steps run in parallel under one deadline:
   autoconfig (the domain's clientConfig file over HTTPS), MX (the domain's mail is received
   by a provider of the table) and guessing (imap./mail./pop./smtp. names on the standard
   ports, greeted over verified TLS). The best answer wins in the order of `RANKING`:
   autoconfig, then MX, then guess. A step's answer is taken as soon as every better-ranked
   step has finished without one; at the deadline the best answer so far is taken and
   unfinished steps are abandoned (their sockets time out on their own).

Every connection goes through `mailbox.protocols.net`, so the policy's address rules (point 9)
and verified TLS apply to autoconfig hosts, redirect hops and probed servers alike. No
password is ever sent: probes read greetings only. Nothing unencrypted is ever proposed.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from accounts.discovery import autoconfig, guess, mx
from accounts.discovery.parallel import background, first_best
from accounts.discovery.providers import by_domain
from accounts.discovery.types import RANKING, Discovery, EmailAddress, Source
from mailbox.protocols.types import NetworkPolicy

__all__ = ["RANKING", "Discovery", "EmailAddress", "Source", "discover"]

log = logging.getLogger(__name__)

DEFAULT_DEADLINE_SECONDS = 6.0
DEFAULT_PROBE_TIMEOUT = 4.0
# Steps stop waiting for their own sub-lookups a little before the overall deadline, so their
# best answer still reaches discover() in time.
STEP_MARGIN_SECONDS = 0.25

Step = Callable[[EmailAddress, NetworkPolicy, float], Discovery | None]
STEPS: dict[Source, Step] = {
    Source.AUTOCONFIG: autoconfig.discover,
    Source.MX: mx.discover,
    Source.GUESS: guess.discover,
}


def discover(
    address: str,
    policy: NetworkPolicy,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
) -> Discovery | None:
    """Settings for `address`, or None when nothing was found in time.

    `probe_timeout` bounds each connection, DNS query and conversation; `deadline_seconds`
    bounds the whole call. Raises ValueError for an address that is not one.
    """
    email = EmailAddress.parse(address)
    provider = by_domain(email.domain)
    if provider is not None:
        return provider.discovery(email, Source.PROVIDERS)
    started = time.monotonic()
    deadline = started + deadline_seconds
    step_deadline = deadline - min(STEP_MARGIN_SECONDS, deadline_seconds / 10)
    step_policy = replace(policy, timeout=min(policy.timeout, probe_timeout))
    with background(len(RANKING)) as executor:
        futures = [
            executor.submit(_run, source, email, step_policy, step_deadline) for source in RANKING
        ]
        found = first_best(futures, deadline)
    log.info(
        "discovery for %s: %s in %.2fs",
        email.domain,
        found.source if found else "nothing",
        time.monotonic() - started,
    )
    return found


def _run(
    source: Source, email: EmailAddress, policy: NetworkPolicy, deadline: float
) -> Discovery | None:
    try:
        return STEPS[source](email, policy, deadline)
    except Exception:  # a bug in one step must not hide the others' answers
        log.exception("discovery step %s failed for %s", source, email.domain)
        return None
