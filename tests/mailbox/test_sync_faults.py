"""Faults during a sync, at defined points; after each, checked on content: every server UID
stored exactly once, with the same bytes as on the server."""

import hashlib
from collections.abc import Callable

import pytest

from accounts.models import MailAccount, User
from mailbox import storage
from mailbox.models import Folder, MessageLocation
from mailbox.models.messages import BodyState
from mailbox.protocols.types import Security, Server
from mailbox.services.sync import sync_account
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3
    return tmp_path


def account_at(user: MailUser, host: str, port: int) -> MailAccount:
    return make_account(
        User.objects.create_user(f"owner-{port}"),
        user.address,
        password=user.password,
        incoming=Server(host, port, Security.TLS),
        smtp=Server(host, port, Security.TLS),
    )


def assert_same_as_server(account: MailAccount, servers: MailServers, user: MailUser) -> None:
    on_server = {m.uid: m.raw for m in servers.messages(user.address)}
    inbox = Folder.objects.get(account=account, role="inbox")
    locations = list(MessageLocation.objects.filter(folder=inbox).select_related("message"))
    assert sorted(location.uid for location in locations) == sorted(on_server)
    for location in locations:
        message = location.message
        assert message.body_state == BodyState.COMPLETE
        assert message.sha256 == hashlib.sha256(on_server[location.uid]).hexdigest()
        assert storage.read_raw(message.raw_path) == on_server[location.uid]


def free_lease(account: MailAccount) -> None:
    MailAccount.objects.filter(pk=account.pk).update(
        sync_lease_owner="", sync_lease_expires_at=None
    )


def test_a_connection_cut_inside_a_body_literal(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    user = mail_user()
    mail_servers.seed(user.address, [messages.with_attachments(), *messages.volume(30)])
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.imaps_port, tls="implicit")
    account = account_at(user, "127.0.0.1", proxy.port)
    sync_account(account.pk, bodies=False)  # envelopes in; bodies still to come
    proxy.cut_in_fetch_literal(after=300, times=1)

    broken = sync_account(account.pk)
    healed = sync_account(account.pk)

    assert broken.error and "mail server" in broken.error.lower() or broken.error
    assert proxy.faults_fired == 1
    assert healed.error == ""
    assert_same_as_server(account, mail_servers, user)


def test_a_connection_cut_inside_the_envelope_listing(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], fault_proxy
) -> None:
    user = mail_user()
    mail_servers.seed(user.address, list(messages.volume(40)))
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.imaps_port, tls="implicit")
    proxy.cut_in_fetch_literal(after=50, times=1)
    account = account_at(user, "127.0.0.1", proxy.port)

    broken = sync_account(account.pk)
    healed = sync_account(account.pk)

    assert broken.error and healed.error == ""
    assert_same_as_server(account, mail_servers, user)


def test_a_crash_in_the_middle_of_a_batch_then_a_resync(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], monkeypatch
) -> None:
    """The process dies (as a killed worker would) after some bodies of a batch are stored."""
    from mailbox.services.sync import imap_bodies

    user = mail_user()
    mail_servers.seed(user.address, list(messages.volume(25)))
    e = mail_servers.endpoints
    account = account_at(user, e.host, e.imaps_port)
    real_store_bodies = imap_bodies.store_bodies

    def dying_store_bodies(account_id, items, parsed=None, prepared=None):  # type: ignore[no-untyped-def]
        items = list(items)
        real_store_bodies(
            account_id,
            items[:10],
            parsed[:10] if parsed else None,
            prepared[:10] if prepared else None,
        )
        raise SystemExit("killed")  # not an Exception: nothing in the sync may catch it

    monkeypatch.setattr(imap_bodies, "store_bodies", dying_store_bodies)
    with pytest.raises(SystemExit):
        sync_account(account.pk)
    monkeypatch.setattr(imap_bodies, "store_bodies", real_store_bodies)
    free_lease(account)  # what the lease's expiry does for a dead worker

    healed = sync_account(account.pk)

    assert healed.error == ""
    assert_same_as_server(account, mail_servers, user)


def test_the_server_restarted_during_a_sync(
    private_mail_servers, mail_user: Callable[..., MailUser], monkeypatch
) -> None:
    from mailbox.services import lease

    servers: MailServers = private_mail_servers()
    user = servers.add_user("restart@example.test", "pw-restart")
    servers.seed(user.address, list(messages.volume(1200)))
    e = servers.endpoints
    account = account_at(user, e.host, e.imaps_port)
    real_renew = lease.renew
    renewals = {"n": 0}

    def renew_then_restart(account_id: int, owner: str) -> bool:
        renewals["n"] += 1
        if renewals["n"] == 1:  # after the first batch of envelopes
            servers.restart()
        return real_renew(account_id, owner)

    monkeypatch.setattr(lease, "renew", renew_then_restart)
    broken = sync_account(account.pk)
    monkeypatch.setattr(lease, "renew", real_renew)
    healed = sync_account(account.pk)

    assert broken.error and healed.error == ""
    assert_same_as_server(account, servers, user)


def test_a_changed_uidvalidity_resyncs_the_folder_without_duplicates(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text(), messages.html_only()])
    e = mail_servers.endpoints
    account = account_at(user, e.host, e.imaps_port)
    sync_account(account.pk)
    inbox = Folder.objects.get(account=account, role="inbox")
    Folder.objects.filter(pk=inbox.pk).update(uidvalidity=inbox.uidvalidity + 1)  # as if reset

    report = sync_account(account.pk)

    assert report.error == ""
    assert_same_as_server(account, mail_servers, user)
    assert MessageLocation.objects.filter(folder=inbox).count() == 2
