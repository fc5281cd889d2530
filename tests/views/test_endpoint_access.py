"""Every endpoint, tried by two people: sign-in needed, another person's ids answer 404, CSRF on.

The endpoints come from the URL resolver (the admin excepted, which has its own tests): each
must have an entry in ROUTES saying how to call it, so a new view without one fails this suite.
An entry names the methods the view answers and builds, for an owner, the URL ids and POST
bodies that point at the owner's things (account, identity, folder, message, thread,
attachment, frame token). Then, with alice as the owner:

- nobody signed in is sent to the sign-in page (pages listed as PUBLIC excepted; the message
  frame's TOKEN pages refuse a bad token instead, as their requests come without the session);
- bob, signed in, asking for alice's things gets 404 for every method, and nothing in the
  database changes; alice's same request is not refused (so a 404 for everybody cannot pass);
- bob's own lists and searches show nothing of alice's;
- every POST without a CSRF token is refused.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pytest_django.fixtures import Settings

from accounts.models import Identity, MailAccount, User
from mailbox.models import (
    Attachment,
    ComposeUpload,
    Folder,
    FolderRole,
    MessageLocation,
    OutgoingMessage,
    SavedResponse,
    Thread,
)
from mailbox.protocols import mime
from mailbox.protocols.types import Security, Server
from mailbox.services.frames import FrameGrant, frame_token
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.envelopes import envelope_message
from tests.accounts.factories import make_account
from tests.harness.messages import BASE_DATE, WIRE, pdf_bytes, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens there


# --- Two people with mail -----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user: User
    account: MailAccount
    identity: Identity
    inbox: Folder
    archive: Folder
    location: MessageLocation
    thread: Thread
    attachment: Attachment  # a PDF, downloaded with the session
    inline_image: Attachment  # a cid: image, served under the frame's token
    marker: str  # a word in the person's subject and body, found nowhere else


def make_person(name: str, marker: str) -> Person:
    user = User.objects.create_user(name)
    # A closed loopback port: the owner's connection test is refused at once, never leaves.
    account = make_account(user, f"{name}@{name}.test", incoming=NOWHERE, smtp=NOWHERE)
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    archive = Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    Folder.objects.create(account=account, name="Trash", role=FolderRole.TRASH)
    Folder.objects.create(account=account, name="Junk", role=FolderRole.JUNK)
    thread = Thread.objects.create(account=account, subject_key=f"{marker} plans".lower())
    raw = raw_message(name, marker)
    # As a sync stores it: the envelope first, then the body.
    message = envelope_message(
        account.pk, mime.parse_headers(raw), arrived=BASE_DATE, size=len(raw)
    )
    message.thread = thread
    message.save()
    store_bodies(account.pk, [(message.pk, raw)])
    location = MessageLocation.objects.create(
        folder=inbox, message=message, uid=1, sort_date=BASE_DATE
    )
    Folder.objects.filter(pk=inbox.pk).update(message_count=1, unread_count=1)
    parts = Attachment.objects.filter(message=message)
    return Person(
        user=user,
        account=account,
        identity=account.identities.get(),
        inbox=inbox,
        archive=archive,
        location=location,
        thread=thread,
        attachment=parts.get(content_type="application/pdf"),
        inline_image=parts.get(content_type="image/png"),
        marker=marker,
    )


def raw_message(name: str, marker: str) -> bytes:
    """Text and HTML with a cid: image, and a PDF attached."""
    message = EmailMessage()
    message["From"] = f"Friend <friend@{name}.test>"
    message["To"] = f"{name}@{name}.test"
    message["Subject"] = f"{marker} plans"
    message["Date"] = format_datetime(BASE_DATE)
    message["Message-ID"] = f"<plans.1@{name}.test>"
    message.set_content(f"The {marker} plans are attached.\n")
    message.add_alternative(f'<p>The {marker} plans.</p><img src="cid:logo@{name}.test">', "html")
    message.get_payload()[1].add_related(png_bytes(), "image", "png", cid=f"<logo@{name}.test>")
    message.add_attachment(pdf_bytes(), "application", "pdf", filename=f"{marker}.pdf")
    return message.as_bytes(policy=WIRE)


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> Person:
    return make_person("alice", "Zanzibar")


@pytest.fixture
def bob() -> Person:
    return make_person("bob", "Quixotic")


def signed_in(person: Person, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(person.user)
    return client


# --- The table ----------------------------------------------------------------------------


class Access(Enum):
    SIGNED_IN = "signed in"
    PUBLIC = "anybody"  # signing in, resetting a password, the health check
    TOKEN = "signed token"  # the message frame: its requests come without the session


Ids = Callable[[Person], dict[str, Any]]
# (owner, asker) -> POST bodies; the asker's own things may be mixed with the owner's.
Bodies = Callable[[Person, Person], list[dict[str, Any]]]


def harmless_form(owner: Person, asker: Person) -> list[dict[str, Any]]:
    return [{"email": f"{asker.user.username}@example.test", "name": "Taken over"}]


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...] = ("GET",)
    access: Access = Access.SIGNED_IN
    ids: Ids | None = None  # URL kwargs naming the owner's things
    query: Callable[[Person], dict[str, str]] | None = None  # GET parameters
    owner_query: Callable[[Person], dict[str, str]] | None = None  # GET parameters naming ids
    bodies: Bodies = harmless_form
    names_owners_things_in_body: bool = False  # POST bodies carry the owner's ids
    shows_owners_things: bool = False  # the owner sees their mail or account here


def account_ids(person: Person) -> dict[str, Any]:
    return {"account_id": person.account.pk}


def identity_ids(person: Person) -> dict[str, Any]:
    return {"identity_id": person.identity.pk}


def location_ids(person: Person) -> dict[str, Any]:
    return {"location_id": person.location.pk}


def attachment_ids(person: Person) -> dict[str, Any]:
    return {"location_id": person.location.pk, "part_id": person.attachment.part_id}


ACTIONS = ("read", "unread", "star", "unstar", "archive", "delete", "spam", "not_spam")


def action_bodies(owner: Person, asker: Person) -> list[dict[str, Any]]:
    """Each action on the owner's message; the asker's message into the owner's folder; the
    owner's message among the asker's (a conversation row's comma-separated ids)."""
    mine, theirs = asker.location.pk, owner.location.pk
    bodies: list[dict[str, Any]] = [{"action": action, "location": [theirs]} for action in ACTIONS]
    bodies += [
        {"action": "move", "location": [theirs], "folder": owner.archive.pk},
        {"action": "move", "location": [mine], "folder": owner.archive.pk},
        {"action": "read", "location": [f"{mine},{theirs}"]},
        {"action": "folder_read", "read_folder": [owner.inbox.pk]},
    ]
    return bodies


def compose_bodies(owner: Person, asker: Person) -> list[dict[str, Any]]:
    """A message sent as the owner's identity (the asker's own recipient)."""
    return [
        {
            "identity": owner.identity.pk,
            "to": f"{asker.user.username}@example.test",
            "subject": "Taken over",
            "text": "Hello",
            "message_id": f"<compose.{asker.user.username}@example.test>",
        }
    ]


def outgoing_ids(person: Person) -> dict[str, Any]:
    """A message the person just sent, still inside its undo window."""
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    outgoing, _ = OutgoingMessage.objects.get_or_create(
        account=person.account,
        message_id=f"<undo.{person.user.username}@example.test>",
        defaults={"raw": b"", "sent_copy": b"", "send_at": later, "next_attempt_at": later},
    )
    return {"outgoing_id": outgoing.pk}


def staged_upload(person: Person) -> ComposeUpload:
    """A file the person attached on a compose page (its bytes do not matter here)."""
    upload, _ = ComposeUpload.objects.get_or_create(
        user=person.user,
        message_id=f"<staged.{person.user.username}@example.test>",
        defaults={"filename": "plan.txt", "content_type": "text/plain", "size": 4, "path": "x"},
    )
    return upload


def upload_query(person: Person) -> dict[str, str]:
    """The person's compose page (its Message-ID) and From."""
    return {"message_id": staged_upload(person).message_id, "identity": str(person.identity.pk)}


def upload_bodies(owner: Person, asker: Person) -> list[dict[str, Any]]:
    return [{"file": SimpleUploadedFile("note.txt", b"a note", content_type="text/plain")}]


def trust_bodies(owner: Person, asker: Person) -> list[dict[str, Any]]:
    return [{"location": owner.location.pk}]


def response_ids(person: Person) -> dict[str, Any]:
    """One of the person's saved responses, named after their marker."""
    response, _ = SavedResponse.objects.get_or_create(
        user=person.user, name=f"{person.marker} reply", defaults={"body": "Thanks!"}
    )
    return {"response_id": response.pk}


GET_POST = ("GET", "POST")
PUBLIC = Route(access=Access.PUBLIC, methods=GET_POST)
ROUTES: dict[str, Route] = {
    "home": Route(),
    "healthz": Route(access=Access.PUBLIC),
    # Signing in (accounts/urls_auth.py); tests/views/test_auth_isolation.py covers the forms.
    "accounts:login": PUBLIC,
    "accounts:login_code": PUBLIC,
    "accounts:signup": PUBLIC,
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": Route(access=Access.PUBLIC),
    "accounts:password_reset_confirm": Route(
        access=Access.PUBLIC,
        methods=GET_POST,
        ids=lambda person: {"uidb64": "MQ", "token": "set-password"},
    ),
    "accounts:password_reset_complete": Route(access=Access.PUBLIC),
    "accounts:logout": Route(methods=("POST",)),
    "accounts:password_change": Route(methods=GET_POST),
    "accounts:password_change_done": Route(),
    "accounts:two_factor": Route(),
    "accounts:two_factor_enable": Route(methods=("POST",)),
    "accounts:two_factor_disable": Route(methods=("POST",)),
    "accounts:preferences": Route(methods=GET_POST),
    # Mail accounts and identities (accounts/urls_mail.py).
    "accounts:mail_accounts": Route(shows_owners_things=True),
    "accounts:mail_account_add": Route(methods=GET_POST),
    "accounts:mail_account_discover": Route(methods=("POST",)),
    "accounts:mail_account_edit": Route(methods=GET_POST, ids=account_ids),
    "accounts:mail_account_test": Route(methods=("POST",), ids=account_ids),
    "accounts:mail_account_delete": Route(methods=GET_POST, ids=account_ids),
    # OAuth sign-in; bob's sign-in for alice's account is refused in tests/accounts/.
    "accounts:oauth_start": Route(methods=("POST",)),
    "accounts:oauth_callback": Route(),
    "accounts:identity_add": Route(methods=GET_POST, ids=account_ids),
    "accounts:identity_edit": Route(methods=GET_POST, ids=identity_ids),
    "accounts:identity_delete": Route(methods=GET_POST, ids=identity_ids),
    # Reading mail (mailbox/urls.py).
    "mail:inbox": Route(shows_owners_things=True),
    "mail:folder": Route(ids=lambda person: {"folder_id": person.inbox.pk}),
    "mail:search": Route(query=lambda person: {"q": person.marker}, shows_owners_things=True),
    "mail:sidebar": Route(shows_owners_things=True),
    "mail:message": Route(ids=location_ids),
    "mail:source": Route(ids=location_ids),
    "mail:print": Route(ids=location_ids),
    "mail:thread": Route(ids=lambda person: {"thread_id": person.thread.pk}),
    "mail:trust_sender": Route(
        methods=("POST",), bodies=trust_bodies, names_owners_things_in_body=True
    ),
    "mail:attachment": Route(ids=attachment_ids),
    "mail:frame": Route(access=Access.TOKEN),
    "mail:inline_part": Route(access=Access.TOKEN),
    "mail:actions": Route(
        methods=("POST",), bodies=action_bodies, names_owners_things_in_body=True
    ),
    # Writing (mailbox/urls.py): replying to the owner's message, sending as their identity.
    "mail:compose": Route(
        methods=GET_POST,
        owner_query=lambda person: {"reply_all": str(person.location.pk)},
        bodies=compose_bodies,
        names_owners_things_in_body=True,
    ),
    "mail:undo_send": Route(methods=("POST",), ids=outgoing_ids),
    # The Outbox (mailbox/views/outbox.py).
    "mail:outbox": Route(shows_owners_things=True),
    "mail:outbox_withdraw": Route(methods=("POST",), ids=outgoing_ids),
    "mail:outbox_arrived": Route(methods=("POST",), ids=outgoing_ids),
    "mail:outbox_send_again": Route(methods=("POST",), ids=outgoing_ids),
    # Drafts (mailbox/views/drafts.py): the list; autosaving as the owner's identity.
    "mail:drafts": Route(shows_owners_things=True),
    "mail:draft_save": Route(
        methods=("POST",), bodies=compose_bodies, names_owners_things_in_body=True
    ),
    # Attachments staged on the owner's compose page (mailbox/views/uploads.py).
    "mail:compose_upload": Route(methods=("POST",), owner_query=upload_query, bodies=upload_bodies),
    "mail:compose_upload_remove": Route(
        methods=("POST",), ids=lambda person: {"upload_id": staged_upload(person).pk}
    ),
    # Address suggestions and saved responses (mailbox/views/suggestions.py, responses.py).
    "mail:suggestions": Route(query=lambda person: {"q": "fr", "field": "to"}),
    "mail:responses": Route(),
    "mail:response_add": Route(methods=GET_POST),
    "mail:response_edit": Route(methods=GET_POST, ids=response_ids),
    "mail:response_delete": Route(methods=GET_POST, ids=response_ids),
    "mail:response_picker": Route(),
}


def resolved_routes(
    resolver: URLResolver | None = None, namespace: str = ""
) -> dict[str, URLPattern]:
    """Every URL the site answers, by its name (an unnamed one by its pattern)."""
    found: dict[str, URLPattern] = {}
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(resolved_routes(entry, inner))
        else:
            found[f"{namespace}{entry.name}" if entry.name else f"unnamed {entry.pattern}"] = entry
    return found


def names(access: Access | None = None, where: Callable[[Route], bool] = bool) -> list[str]:
    return sorted(
        name
        for name, route in ROUTES.items()
        if (access is None or route.access == access) and where(route)
    )


# --- How a route is called ----------------------------------------------------------------


def token_for(message_of: Person, user: Person) -> str:
    """A frame token naming `message_of`'s message for `user` (as the message page makes one
    for its own person; mailbox/services/frames.py)."""
    grant = FrameGrant(message_of.location.message_id, user.user.pk, images=False)
    return frame_token(grant)


def token_ids(name: str, token: str, owner: Person) -> dict[str, Any]:
    if name == "mail:inline_part":
        return {"token": token, "part_id": owner.inline_image.part_id}
    return {"token": token}


def url_for(name: str, owner: Person) -> str:
    route = ROUTES[name]
    if route.access == Access.TOKEN:
        return reverse(name, kwargs=token_ids(name, token_for(owner, owner), owner))
    url = reverse(name, kwargs=route.ids(owner) if route.ids else {})
    return f"{url}?{urlencode(route.owner_query(owner))}" if route.owner_query else url


def call(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.get(url) if method == "GET" else client.post(url, body or {})


def is_sign_in_redirect(response: Any) -> bool:
    login = reverse("accounts:login")
    return response.status_code == 302 and response["Location"].split("?")[0] == login


# Every row the app keeps, to prove a refused request changed nothing.
KEPT_APPS = ("accounts", "mailbox", "otp_totp")


def everything() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in KEPT_APPS
        for model in apps.get_app_config(label).get_models()
    }


# --- The tests ----------------------------------------------------------------------------


def test_every_endpoint_has_an_entry() -> None:
    found = set(resolved_routes())

    assert found - set(ROUTES) == set(), "add them to ROUTES in tests/views/test_endpoint_access.py"
    assert set(ROUTES) - found == set(), "these ROUTES entries are gone from the URLs"


@pytest.mark.parametrize("name", names(Access.SIGNED_IN))
def test_nobody_signed_in_is_sent_to_sign_in(name: str, alice: Person, client: Client) -> None:
    url = url_for(name, alice)

    for method in ("GET", "POST"):
        response = call(client, method, url)
        declared = method in ROUTES[name].methods
        assert is_sign_in_redirect(response) or (not declared and response.status_code == 405), (
            f"{method} {name} answers {response.status_code} to nobody signed in"
        )


@pytest.mark.parametrize("name", names(Access.PUBLIC))
def test_public_pages_answer_without_sign_in(name: str, alice: Person, client: Client) -> None:
    response = client.get(url_for(name, alice))

    assert response.status_code < 500


@pytest.mark.parametrize("name", names(Access.TOKEN))
def test_a_frame_token_opens_only_its_own_persons_message(
    name: str, alice: Person, bob: Person
) -> None:
    token = token_for(alice, alice)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    bobs_own = token_for(bob, bob)
    # Signed for bob but naming alice's message: what a leaked signing key could make.
    alices_message_for_bob = token_for(alice, bob)
    anybody, bob_browser = Client(), signed_in(bob)

    for bad in (forged, "x", bobs_own.rsplit(":", 1)[0], alices_message_for_bob):
        url = reverse(name, kwargs=token_ids(name, bad, alice))
        for client in (anybody, bob_browser):
            assert client.get(url).status_code in (403, 404), f"{name} takes token {bad!r}"
    # The owner's token works, without the session (the frame's origin is opaque).
    assert anybody.get(reverse(name, kwargs=token_ids(name, token, alice))).status_code == 200


def reaches_owners_things(route: Route) -> bool:
    return route.access == Access.SIGNED_IN and (
        route.ids is not None or route.owner_query is not None or route.names_owners_things_in_body
    )


@pytest.mark.parametrize("name", names(where=reaches_owners_things))
def test_another_persons_things_answer_404(name: str, alice: Person, bob: Person) -> None:
    route, bob_browser = ROUTES[name], signed_in(bob)
    url = url_for(name, alice)
    before = everything()

    for method in ("GET", "POST"):
        bodies = route.bodies(alice, bob) if method == "POST" else [{}]
        for body in bodies:
            status = call(bob_browser, method, url, body).status_code
            declared = method in route.methods
            assert status == 404 or (not declared and status == 405), (
                f"{method} {name} {body} by another person answers {status}"
            )
    assert everything() == before


@pytest.mark.parametrize("name", names(where=reaches_owners_things))
def test_the_owners_same_request_is_not_refused(name: str, alice: Person, bob: Person) -> None:
    route = ROUTES[name]
    url = url_for(name, alice)

    for method in route.methods:
        for body in route.bodies(alice, alice) if method == "POST" else [{}]:
            response = call(signed_in(alice), method, url, body)
            assert response.status_code in (200, 204, 302), f"{method} {name} {body}"


@pytest.mark.parametrize(
    "name", names(Access.SIGNED_IN, lambda route: "GET" in route.methods and not route.ids)
)
def test_a_persons_own_pages_show_nothing_of_anothers(
    name: str, alice: Person, bob: Person
) -> None:
    route = ROUTES[name]
    url = reverse(name)

    def page(person: Person) -> str:
        query = route.query(person) if route.query else {}
        return signed_in(person).get(url, query, follow=True).content.decode()

    alices = (alice.marker, alice.account.email)
    for leak in alices:
        assert leak not in page(bob), f"{name} shows bob alice's {leak}"
    if route.shows_owners_things:
        assert any(hers in page(alice) for hers in alices), f"{name} shows alice nothing of hers"


@pytest.mark.parametrize("name", names())
def test_every_post_needs_the_csrf_token(name: str, alice: Person) -> None:
    route, browser = ROUTES[name], signed_in(alice, enforce_csrf_checks=True)
    if route.access == Access.TOKEN:  # refused before the token is even read
        url = reverse(name, kwargs=token_ids(name, "any-token", alice))
    else:
        url = url_for(name, alice)
    bodies = route.bodies(alice, alice) if "POST" in route.methods else [{}]
    before = everything()

    for body in bodies:
        response = browser.post(url, body)
        assert response.status_code == 403 and b"CSRF" in response.content, name
    assert everything() == before
