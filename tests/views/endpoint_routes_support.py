"""The table of every endpoint and how to call it, for tests/views/test_endpoint_access.py."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mailbox.models import ComposeUpload, OutgoingMessage, SavedResponse
from mailbox.services.frames import FrameGrant, frame_token
from tests.views.endpoint_people_support import Person


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
