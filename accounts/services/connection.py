"""Connection tests: sign in to the incoming and the outgoing server, report in plain words.

Saving an account runs this test. Each failure of the protocol layer becomes one sentence a
person can act on; a certificate that is not trusted comes with its fingerprint so that a
self-hoster can trust exactly that certificate.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from accounts.discovery.providers import load_providers
from accounts.models import MailAccount, OAuthGrant, User
from accounts.services.limits import check_network_allowance
from accounts.services.mail_accounts import AccountSettings
from accounts.services.oauth_tokens import SignInRequired, TokenUnavailable, access_token_for
from accounts.services.policy import network_policy
from mailbox.protocols import check, errors
from mailbox.protocols.types import Credentials

SIDE_LABELS = {"incoming": "Incoming mail", "smtp": "Outgoing mail"}


@dataclass(frozen=True)
class Problem:
    side: str  # "incoming" or "smtp" (also the prefix of the form field that trusts a cert)
    message: str
    fingerprint: str | None = None

    @property
    def side_label(self) -> str:
        return SIDE_LABELS.get(self.side, "")


@dataclass(frozen=True)
class ConnectionReport:
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @classmethod
    def refused(cls, message: str) -> "ConnectionReport":
        return cls((Problem("", message),))


@sensitive_variables()
def test_settings(
    user: User,
    values: AccountSettings,
    account: MailAccount | None,
    incoming_password: str | None,
    smtp_password: str | None,
) -> ConnectionReport:
    """Signs in with these settings; a password of None means the account's saved one (or,
    for an account that signs in with OAuth, its access token)."""
    check_network_allowance(user.pk)
    if account is not None and not incoming_password and _uses_oauth(account):
        try:
            incoming, smtp = _token_credentials(account, values)
        except (SignInRequired, TokenUnavailable) as exc:
            return ConnectionReport.refused(str(exc))
        return run_test(values, incoming, smtp)
    incoming = Credentials(
        values.incoming_username,
        incoming_password or (account.incoming_credentials().password if account else ""),
    )
    smtp = Credentials(
        values.smtp_username,
        smtp_password or (account.smtp_credentials().password if account else ""),
    )
    return run_test(values, incoming, smtp)


@sensitive_variables()
def test_saved_account(user: User, account: MailAccount) -> ConnectionReport:
    check_network_allowance(user.pk)
    values = AccountSettings.of(account)
    if not _uses_oauth(account):
        return run_test(values, account.incoming_credentials(), account.smtp_credentials())
    try:
        incoming, smtp = _token_credentials(account, values)
    except (SignInRequired, TokenUnavailable) as exc:
        return ConnectionReport.refused(str(exc))
    return run_test(values, incoming, smtp)


def _uses_oauth(account: MailAccount) -> bool:
    return OAuthGrant.objects.filter(account_id=account.pk).exists()


@sensitive_variables()
def _token_credentials(
    account: MailAccount, values: AccountSettings
) -> tuple[Credentials, Credentials]:
    """The account's access token for both servers (refreshed first when about to expire)."""
    token = access_token_for(account)
    return (
        Credentials(values.incoming_username, "", oauth_token=token),
        Credentials(values.smtp_username, "", oauth_token=token),
    )


@sensitive_variables()
def run_test(values: AccountSettings, incoming: Credentials, smtp: Credentials) -> ConnectionReport:
    """Signs in to both servers at once (no per-user limit: callers apply it)."""
    policy = network_policy()

    def incoming_check() -> None:
        check.check_incoming(
            values.incoming_protocol,
            values.incoming,
            incoming,
            policy,
            values.incoming_trusted_fingerprint or None,
        )

    def smtp_check() -> None:
        check.check_outgoing(values.smtp, smtp, policy, values.smtp_trusted_fingerprint or None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [
            pool.submit(_problem_of, "incoming", incoming_check, values, incoming.password),
            pool.submit(_problem_of, "smtp", smtp_check, values, smtp.password),
        ]
        problems = tuple(p for p in (future.result() for future in results) if p is not None)
    return ConnectionReport(problems)


@sensitive_variables()
def _problem_of(
    side: str, attempt: Callable[[], None], values: AccountSettings, password: str
) -> Problem | None:
    try:
        attempt()
    except errors.MailProtocolError as exc:
        problem = describe(side, exc, values)
        # Servers do not echo passwords, but nothing a server says reaches a page unchecked.
        if password and password in problem.message:
            problem = Problem(side, problem.message.replace(password, "***"), problem.fingerprint)
        return problem
    return None


def describe(side: str, exc: errors.MailProtocolError, values: AccountSettings) -> Problem:
    """One sentence a person can act on."""
    timeout = round(settings.MAIL_NETWORK_TIMEOUT_SECONDS)
    match exc:
        case errors.NameNotFound():
            text = f"The server name {exc.host} was not found. Check its spelling."
        case errors.ForbiddenAddress():
            text = (
                f"{exc.host} points to a private or local network address ({exc.address}), "
                "which this webmail does not connect to. If it is your own server, ask your "
                "administrator to allow private hosts."
            )
        case errors.ConnectionRefused():
            text = (
                f"{exc.host} refused the connection on port {exc.port}. "
                "Check the port and the security setting."
            )
        case errors.TimedOut():
            text = (
                f"{exc.host} did not answer on port {exc.port} within {timeout} seconds. "
                "The server may be down, or a firewall blocks the port."
            )
        case errors.CertificateUntrusted():
            text = (
                f"The security certificate of {exc.host} is not trusted ({exc.reason}). "
                "If you run this server yourself, you can trust exactly this certificate."
            )
            return Problem(side, text, exc.fingerprint)
        case errors.TlsUnavailable():
            text = (
                f"{exc.host} does not offer an encrypted connection on port {exc.port}, so your "
                "password was not sent. Choose SSL/TLS or another port."
            )
        case errors.AuthFailed():
            text = f"{exc.host} did not accept the user name or password"
            text += f' (it said: "{exc.server_reply}").' if exc.server_reply else "."
            hint = provider_hint(values.provider)
            if hint:
                text += f" {hint}"
        case errors.ProtocolFailure():
            text = (
                f"{exc.host} on port {exc.port} did not answer like a mail server "
                f"({exc.reason}). Check the server name, port and protocol."
            )
        case errors.ConnectFailed():
            text = f"Could not talk to {exc.host} on port {exc.port}: {exc.reason}."
        case _:
            text = str(exc)
    return Problem(side, text)


def provider_hint(provider_id: str) -> str:
    """The provider's first note (such as "use an app password"), if discovery knows one."""
    provider = next((p for p in load_providers() if p.id == provider_id), None)
    return provider.notes[0] if provider and provider.notes else ""
