"""MX lookup: a custom domain whose mail is received by a provider of the table.

Only DNS is asked (through MAIL_DNS_SERVER when the policy names one); no connection is made,
and the servers proposed come from our own table, never from the DNS answer.
"""

import logging
import time

import dns.exception
import dns.name
import dns.resolver

from accounts.discovery.providers import by_mx_host
from accounts.discovery.types import Discovery, EmailAddress, Source
from mailbox.protocols import net
from mailbox.protocols.types import NetworkPolicy

log = logging.getLogger(__name__)


def discover(email: EmailAddress, policy: NetworkPolicy, deadline: float) -> Discovery | None:
    """The provider of the most preferred MX host that belongs to a known provider."""
    lifetime = min(policy.timeout, deadline - time.monotonic())
    if lifetime <= 0:
        return None
    for host in mx_hosts(email.domain, policy, lifetime):
        provider = by_mx_host(host)
        if provider is not None:
            note = f"Mail for {email.domain} is received by {provider.name} ({host})."
            return provider.discovery(email, Source.MX, note)
    return None


def mx_hosts(domain: str, policy: NetworkPolicy, lifetime: float) -> list[str]:
    """The domain's MX hosts, most preferred (lowest preference value) first; [] on failure."""
    try:
        resolver = (
            net.resolver_for(policy.dns_server) if policy.dns_server else dns.resolver.Resolver()
        )
        resolver.lifetime = lifetime
        answer = resolver.resolve(domain, "MX")
    except dns.exception.DNSException as exc:  # NXDOMAIN, no answer, time-out, no resolver
        log.debug("MX lookup for %s: %s", domain, exc)
        return []
    records = sorted(answer, key=lambda record: record.preference)
    return [
        record.exchange.to_text(omit_final_dot=True).lower()
        for record in records
        if record.exchange != dns.name.root  # "0 ." is a null MX: no mail at all
    ]
