"""The network policy every connection to a person's mail servers follows, from settings."""

from django.conf import settings

from mailbox.protocols.types import NetworkPolicy


def network_policy(timeout: float | None = None) -> NetworkPolicy:
    return NetworkPolicy(
        timeout=timeout if timeout is not None else settings.MAIL_NETWORK_TIMEOUT_SECONDS,
        allow_private=settings.MAIL_ALLOW_PRIVATE_HOSTS,
        dns_server=settings.MAIL_DNS_SERVER or None,
    )
