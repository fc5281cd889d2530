"""Acting on the messages selected in a list: one form, one POST, one service call.

Checkboxes carry location ids (a conversation row carries all of its ids, comma-separated).
Every id is checked against the person (anybody else's answers 404 and nothing changes); an
action that cannot be done (no Archive folder, a move across accounts) comes back as a
message, with nothing changed. The answer is a redirect to the list it came from; htmx
follows it and swaps in the list alone (see lists.py).
"""

from collections.abc import Callable, Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mailbox.models import MessageLocation
from mailbox.services.actions import (
    ActionNotPossible,
    Flag,
    check_folder_for_user,
    check_locations_for_user,
    check_move_target_for_user,
    do_archive,
    do_delete,
    do_mark_folder_read,
    do_mark_not_spam,
    do_mark_spam,
    do_move,
    do_set_flag,
)

MAX_SELECTED = 5000
Action = Callable[[Sequence[MessageLocation]], int]
SIMPLE: dict[str, tuple[Action, str]] = {
    "read": (lambda rows: do_set_flag(rows, Flag.SEEN, True), "Marked {} read."),
    "unread": (lambda rows: do_set_flag(rows, Flag.SEEN, False), "Marked {} unread."),
    "star": (lambda rows: do_set_flag(rows, Flag.FLAGGED, True), "Starred {}."),
    "unstar": (lambda rows: do_set_flag(rows, Flag.FLAGGED, False), "Removed the star from {}."),
    "archive": (do_archive, "Archived {}."),
    "delete": (do_delete, "Deleted {}."),
    "spam": (do_mark_spam, "Moved {} to Junk."),
    "not_spam": (do_mark_not_spam, "Moved {} back to the inbox."),
}


@login_required
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        if action == "folder_read":
            _mark_folders_read(request)
        elif action in SIMPLE or action == "move":
            _act_on_selection(request, action)
        else:
            messages.error(request, "Choose what to do with the selected messages.")
    except ActionNotPossible as exc:
        messages.error(request, str(exc))
    return redirect(_back(request))


def _act_on_selection(request: HttpRequest, action: str) -> None:
    ids = _ids(request.POST.getlist("location"))
    if not ids:
        messages.info(request, "Select one or more messages first.")
        return
    locations = check_locations_for_user(request.user, ids)
    if action == "move":
        target_id = _ids(request.POST.getlist("folder"))
        if len(target_id) != 1:
            messages.error(request, "Choose the folder to move them to.")
            return
        target = check_move_target_for_user(request.user, locations, target_id[0])
        count = do_move(locations, target)
        messages.success(request, f"Moved {_messages(count)} to {target.display_name}.")
        return
    do, done = SIMPLE[action]
    messages.success(request, done.format(_messages(do(locations))))


def _mark_folders_read(request: HttpRequest) -> None:
    ids = _ids(request.POST.getlist("read_folder"))
    if not ids:
        raise Http404("No such folder.")
    found = [check_folder_for_user(request.user, folder_id) for folder_id in ids]
    count = sum(do_mark_folder_read(folder) for folder in found)
    messages.success(request, f"Marked {_messages(count)} read.")


def _ids(values: list[str]) -> list[int]:
    """Ids from checkboxes and fields ("12" or "12,13,14"); 404 for anything else."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if len(ids) > MAX_SELECTED or not all(map(_is_id, ids)):
        raise Http404("No such message.")
    return sorted({int(part) for part in ids})


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 19


def _messages(count: int) -> str:
    return "1 message" if count == 1 else f"{count} messages"


def _back(request: HttpRequest) -> str:
    """The list the form was on; only ever a page of this site."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe and wanted.startswith("/") else reverse("mail:inbox")
