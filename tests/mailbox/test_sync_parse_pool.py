"""A first sync whose parsing runs in helper processes stores what an in-process sync stores."""

from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from accounts.models import MailAccount, User
from mailbox import storage
from mailbox.models import Attachment, Message, MessageLocation
from mailbox.protocols import mime_pool
from mailbox.protocols.mime import parse_message
from mailbox.protocols.mime_pool import Kind, ParserPool, Pending
from mailbox.protocols.types import Security, Server
from mailbox.services.sync import imap_bodies, sync_account
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.mailbox.test_sync_faults import assert_same_as_server

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eml"
MESSAGE_FIELDS = (
    "sha256",
    "body_state",
    "message_id",
    "subject",
    "sender_email",
    "text",
    "snippet",
    "has_attachments",
    "search_text",
    "parse_problems",
)


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 10
    return tmp_path


@pytest.fixture
def pooled(settings) -> None:  # type: ignore[no-untyped-def]
    """Every sync parses in two helpers, however few the messages."""
    settings.MAIL_SYNC_PARSE_POOL_MIN = 1
    settings.MAIL_SYNC_PARSERS = 2


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[mime_pool._Helper]:
    """The helpers started from now on (a spy on mime_pool._start)."""
    helpers: list[mime_pool._Helper] = []
    real_start = mime_pool._start

    def spying_start() -> mime_pool._Helper | None:
        helper = real_start()
        if helper is not None:
            helpers.append(helper)
        return helper

    monkeypatch.setattr(mime_pool, "_start", spying_start)
    return helpers


QUIRKS = "Quirks"  # the hand-written corpus: some are stored PARTIAL, so not in the INBOX


def inbox_messages() -> list[bytes]:
    """~45 well-formed messages: volume mail, attachments, an inline cid: image."""
    extra_attachments = [
        messages.with_attachments(messages.Envelope(message_id=f"<att.extra.{n}@example.test>"))
        for n in range(3)
    ]
    return [
        *messages.volume(30, seed=5),
        *messages.every_kind().values(),  # with_attachments and inline_image among them
        *extra_attachments,
    ]


def account_of(user: MailUser, servers: MailServers) -> MailAccount:
    e = servers.endpoints
    return make_account(
        User.objects.create_user(f"owner-{user.address}"),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.imaps_port, Security.TLS),
    )


def seeded_account(
    servers: MailServers, mail_user: Callable[..., MailUser]
) -> tuple[MailAccount, MailUser]:
    user = mail_user()
    servers.seed(user.address, inbox_messages())
    servers.seed(user.address, [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))], QUIRKS)
    return account_of(user, servers), user


def stored_by_uid(account: MailAccount) -> dict[tuple[str, int], tuple]:
    """What the sync made of each (folder, server UID): the message's fields, its attachments."""
    found = {}
    locations = MessageLocation.objects.filter(folder__account=account)
    for location in locations.select_related("message", "folder"):
        message = location.message
        attachments = sorted(
            Attachment.objects.filter(message=message).values_list(
                "part_id", "filename", "content_type", "size", "content_id", "is_inline"
            )
        )
        found[location.folder.name, location.uid] = (
            *(getattr(message, f) for f in MESSAGE_FIELDS),
            attachments,
        )
    return found


def assert_fields_of_own_bytes(account: MailAccount) -> None:
    """Each message's fields are those of its own stored bytes (not of a batch neighbour's)."""
    for message in Message.objects.filter(account=account):
        parsed = parse_message(storage.read_raw(message.raw_path))
        assert (message.message_id, message.subject) == (
            (parsed.message_id or "")[:998],
            parsed.subject,
        )
        assert (message.text, message.snippet) == (parsed.text, parsed.snippet[:300])
        assert message.has_attachments == parsed.has_attachments


def sync_in_process(
    settings,  # type: ignore[no-untyped-def]
    servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> dict[tuple[str, int], tuple]:
    """The same mail, synced by another account with all parsing in this process."""
    settings.MAIL_SYNC_PARSE_POOL_MIN = 10**9
    account, _ = seeded_account(servers, mail_user)
    assert sync_account(account.pk).error == ""
    return stored_by_uid(account)


def refuse(raw: object) -> object:
    raise AssertionError("a pool batch was parsed in the test process, not by a helper")


def test_a_first_sync_parsed_by_helpers_stores_what_an_in_process_sync_stores(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    settings,  # type: ignore[no-untyped-def]
    pooled: None,
    started: list[mime_pool._Helper],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, user = seeded_account(mail_servers, mail_user)

    with monkeypatch.context() as patch:
        patch.setattr(mime_pool, "_PARSERS", dict.fromkeys(mime_pool._PARSERS, refuse))
        report = sync_account(account.pk)

    assert report.error == ""
    assert_same_as_server(account, mail_servers, user)
    # two for each folder with mail, shared by its envelopes and bodies stages
    assert len(started) == 2 * 2
    assert all(helper.alive and helper.process.returncode == 0 for helper in started)
    stored = stored_by_uid(account)
    assert len(stored) == len(inbox_messages()) + len(list(CORPUS.glob("*.eml")))
    assert_fields_of_own_bytes(account)
    assert stored == sync_in_process(settings, mail_servers, mail_user)
    assert len(started) == 4  # the reference sync started none


@pytest.fixture
def small_body_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # imap_fetch.HEADER_BATCH is bound as a default argument: the envelopes stay one batch.
    monkeypatch.setattr(imap_bodies, "BODY_BATCH", 10)
    monkeypatch.setattr(imap_bodies, "FIRST_BODY_BATCH", 10)


def kill_helpers_on_submit(
    monkeypatch: pytest.MonkeyPatch, kinds: Collection[str], call: int
) -> list[int]:
    """Wraps ParserPool.submit: on its `call`th call for one of `kinds`, kills the pool's
    helpers first. Returns the list the killed pids go to."""
    real_submit = ParserPool.submit
    calls = 0
    killed: list[int] = []

    def submit(self: ParserPool, kind: Kind, raws: list[bytes]) -> Pending:
        nonlocal calls
        calls += kind in kinds
        if kind in kinds and calls == call:
            for helper in self.helpers:
                helper.process.kill()
                killed.append(helper.process.pid)
        return real_submit(self, kind, raws)

    monkeypatch.setattr(ParserPool, "submit", submit)
    return killed


BODY_KINDS = frozenset({"body", "message"})  # whichever the bodies stage asks for


@pytest.mark.parametrize(
    ("kinds", "call"), [(BODY_KINDS, 2), ({"envelopes"}, 1)], ids=["bodies", "envelopes"]
)
def test_helpers_killed_in_the_middle_of_a_stage_still_give_a_complete_correct_sync(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    settings,  # type: ignore[no-untyped-def]
    pooled: None,
    small_body_batches: None,
    monkeypatch: pytest.MonkeyPatch,
    kinds: Collection[str],
    call: int,
) -> None:
    account, user = seeded_account(mail_servers, mail_user)
    killed = kill_helpers_on_submit(monkeypatch, kinds, call)

    report = sync_account(account.pk)

    assert len(killed) == 2, "the helpers were never killed: the test proves nothing"
    assert report.error == ""
    assert_same_as_server(account, mail_servers, user)
    assert_fields_of_own_bytes(account)
    assert stored_by_uid(account) == sync_in_process(settings, mail_servers, mail_user)


def test_body_batches_start_small_then_hold_body_batch_messages_or_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_bodies, "FIRST_BODY_BATCH", 2)
    monkeypatch.setattr(imap_bodies, "BODY_BATCH", 3)
    monkeypatch.setattr(imap_bodies, "BODY_BATCH_BYTES", 100)
    sizes = [1, 1, 1, 1, 1, 90, 20, 1, 1]
    todo = [(uid, uid, size) for uid, size in zip(range(9, 0, -1), sizes, strict=True)]

    batches = [[uid for uid, _, _ in batch] for _, batch in imap_bodies._body_batches(todo)]

    assert batches == [[9, 8], [7, 6, 5], [4, 3], [2, 1]]  # [4, 3]: 110 bytes


@pytest.mark.parametrize(("batch_bytes", "most_waiting"), [(32 * 1024 * 1024, 3), (1, 2)])
def test_the_bodies_stage_parses_two_batches_ahead_unless_they_hold_too_much(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    pooled: None,
    small_body_batches: None,
    monkeypatch: pytest.MonkeyPatch,
    batch_bytes: int,
    most_waiting: int,
) -> None:
    """Batches handed to the helper and not yet written, counted as each is handed over:
    two ahead of the one being written, or one when the waiting ones hold more than
    BODY_BATCH_BYTES (memory before speed)."""
    monkeypatch.setattr(imap_bodies, "BODY_BATCH_BYTES", batch_bytes)
    account, user = seeded_account(mail_servers, mail_user)
    waiting = [0]
    seen: list[int] = []
    real_submit, real_store = ParserPool.submit, imap_bodies._store_body_batch

    def submit(self: ParserPool, kind: Kind, raws: list[bytes]) -> Pending:
        if kind in BODY_KINDS:
            waiting[0] += 1
            seen.append(waiting[0])
        return real_submit(self, kind, raws)

    def store(*args):  # type: ignore[no-untyped-def]
        waiting[0] -= 1
        return real_store(*args)

    monkeypatch.setattr(ParserPool, "submit", submit)
    monkeypatch.setattr(imap_bodies, "_store_body_batch", store)

    report = sync_account(account.pk)

    assert report.error == ""
    assert len(seen) > most_waiting and max(seen) == most_waiting
    assert_same_as_server(account, mail_servers, user)
