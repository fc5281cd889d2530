"""The IMAP sync against the real Dovecot: what the person relies on, checked on content."""

import hashlib
from collections.abc import Callable

import pytest

from accounts.models import MailAccount, User
from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.messages import BodyState
from mailbox.protocols import imap, imap_fetch, imap_folders, mime
from mailbox.protocols.imap_envelopes import envelopes_of
from mailbox.protocols.types import Credentials, NetworkPolicy, Security, Server
from mailbox.services.sync import sync_account
from mailbox.services.sync.envelopes import store_envelopes
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    return tmp_path


@pytest.fixture
def mailbox_pair(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> tuple[MailAccount, MailUser]:
    user = mail_user()
    e = mail_servers.endpoints
    account = make_account(
        User.objects.create_user("alice"),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )
    return account, user


def stored_inbox(account: MailAccount) -> dict[int, Message]:
    inbox = Folder.objects.get(account=account, role="inbox")
    return {
        location.uid: location.message
        for location in MessageLocation.objects.filter(folder=inbox).select_related("message")
    }


def test_first_sync_stores_every_message_once_with_its_exact_bytes(
    mailbox_pair, mail_servers
) -> None:
    account, user = mailbox_pair
    conversation = list(messages.thread(length=3))
    corpus = list(messages.every_kind().values()) + conversation
    mail_servers.seed(user.address, corpus, flags=["\\Seen"])

    report = sync_account(account.pk)

    assert report.error == ""
    on_server = {m.uid: m.raw for m in mail_servers.messages(user.address)}
    stored = stored_inbox(account)
    assert set(stored) == set(on_server)
    for uid, message in stored.items():
        assert message.body_state in (BodyState.COMPLETE, BodyState.PARTIAL)
        assert hashlib.sha256(on_server[uid]).hexdigest() == message.sha256
        assert storage.read_raw(message.raw_path) == on_server[uid]
    folders = {f.role for f in Folder.objects.filter(account=account)}
    assert {"inbox", "sent", "drafts", "trash", "junk", "archive"} <= folders
    assert report.new == len(corpus)
    conversation_ids = {hashlib.sha256(raw).hexdigest() for raw in conversation}
    threads = {m.thread_id for m in stored.values() if m.sha256 in conversation_ids}
    assert len(threads) == 1 and None not in threads


def test_a_second_sync_brings_new_mail_flags_and_expunges(mailbox_pair, mail_servers) -> None:
    account, user = mailbox_pair
    mail_servers.seed(user.address, [messages.plain_text(), messages.html_only()])
    sync_account(account.pk)
    with mail_servers.imap(user.address) as other_client:  # another mail program
        other_client.select("INBOX")
        other_client.uid("STORE", "1", "+FLAGS", "(\\Flagged \\Seen)")
        other_client.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        other_client.expunge()
    mail_servers.seed(user.address, [messages.with_attachments()])

    report = sync_account(account.pk)

    stored = stored_inbox(account)
    assert set(stored) == {1, 3}
    assert report.new == 1
    first = MessageLocation.objects.get(folder__account=account, uid=1)
    assert first.is_flagged and first.is_seen
    assert stored[3].has_attachments
    assert Message.objects.filter(account=account).count() == 2  # the expunged one is gone


def test_an_unchanged_resync_is_a_no_op(mailbox_pair, mail_servers) -> None:
    account, user = mailbox_pair
    mail_servers.seed(user.address, [messages.plain_text()])
    sync_account(account.pk)
    before = list(MessageLocation.objects.values_list("pk", "message_id", "is_seen"))

    report = sync_account(account.pk)

    assert report.new == 0 and report.error == ""
    assert list(MessageLocation.objects.values_list("pk", "message_id", "is_seen")) == before


def test_replaying_an_envelope_batch_changes_nothing(mailbox_pair, mail_servers) -> None:
    account, user = mailbox_pair
    mail_servers.seed(user.address, [messages.plain_text(), messages.html_only()])
    sync_account(account.pk, bodies=False)
    inbox = Folder.objects.get(account=account, role="inbox")
    e = mail_servers.endpoints
    policy = NetworkPolicy(allow_private=True, timeout=5)
    with imap.session(
        Server(e.host, e.imaps_port, Security.TLS), Credentials(user.login, user.password), policy
    ) as client:
        imap_folders.select(client, "INBOX", readonly=True)
        batch = next(imap_fetch.fetch_headers(client, "all"))

    assert store_envelopes(inbox, envelopes_of(batch)) == 0
    assert MessageLocation.objects.filter(folder=inbox).count() == 2


def test_a_wrong_password_is_recorded_and_backs_off(mailbox_pair, mail_servers, settings) -> None:
    account, user = mailbox_pair
    settings.MAIL_SYNC_INTERVAL_SECONDS = 60
    account.set_incoming_password("no-longer-right")
    account.save()

    first = sync_account(account.pk)
    second = sync_account(account.pk)

    account.refresh_from_db()
    assert "did not accept the user name or password" in first.error
    assert account.last_error == second.error and account.sync_failures == 2
    wait = (account.next_sync_at - account.last_error_at).total_seconds()
    assert 200 < wait <= 241  # 60 s doubled twice


def test_synced_mail_is_searchable_html_only_mail_too(mailbox_pair, mail_servers) -> None:
    from mailbox.search import matching

    account, user = mailbox_pair
    html = "<html><body><table><tr><td>Zebra crossing</td></tr></table></body></html>"
    mail_servers.seed(user.address, [messages.html_only(html=html), messages.plain_text()])

    sync_account(account.pk)

    stored = Message.objects.filter(account=account)
    assert {m.subject for m in matching(stored, "zebra")} == {"Newsletter"}
    assert {m.subject for m in matching(stored, "thursday")} == {"Quarterly numbers"}


def test_mail_sent_to_the_account_arrives_within_one_poll(mailbox_pair, mail_servers) -> None:
    import smtplib
    import ssl

    from mailbox.services import lease

    account, user = mailbox_pair
    sync_account(account.pk)
    e = mail_servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    with smtplib.SMTP_SSL(e.host, e.submissions_port, context=context, timeout=10) as smtp:
        smtp.login(user.login, user.password)
        smtp.sendmail(user.address, [user.address], messages.plain_text())
    mail_servers.wait_for_messages(user.address, 1)
    MailAccount.objects.filter(pk=account.pk).update(next_sync_at=None)  # the poll is due

    [due] = lease.take_due()
    sync_account(due)

    assert [m.subject for m in stored_inbox(account).values()] == ["Quarterly numbers"]


def test_a_big_message_comes_in_partial_fetches_and_is_stored_whole(
    mailbox_pair, mail_servers, monkeypatch
) -> None:
    """Over the streaming threshold (shrunk here), a message travels in BODY[]<offset.length>
    pieces through a file; its stored bytes and attachment are those on the server."""
    from mailbox.services.sync import imap_bodies

    account, user = mailbox_pair
    big = messages.with_attachments()  # a few attachments: tens of kilobytes
    small = messages.plain_text()
    mail_servers.seed(user.address, [big, small])
    monkeypatch.setattr(imap_bodies, "STREAM_THRESHOLD", len(big) - 1)
    pieces: list[int] = []
    real_part = imap_fetch._body_part

    def counted_part(client, uid, offset, length):  # type: ignore[no-untyped-def]
        pieces.append(uid)
        return real_part(client, uid, offset, length)

    monkeypatch.setattr(imap_fetch, "_body_part", counted_part)

    report = sync_account(account.pk)

    assert report.error == ""
    on_server = {m.uid: m.raw for m in mail_servers.messages(user.address)}
    big_uid = next(uid for uid, raw in on_server.items() if raw == big)
    assert pieces and set(pieces) == {big_uid}  # only the big one streamed
    stored = stored_inbox(account)
    assert storage.read_raw(stored[big_uid].raw_path) == big
    assert stored[big_uid].attachments.count() == len(mime.parse_message(big).attachments) > 0
    assert all(m.body_state == BodyState.COMPLETE for m in stored.values())
