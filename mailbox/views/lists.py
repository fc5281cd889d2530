"""Message lists: the unified inbox (the landing page), one folder, search results; and the
sidebar as a fragment. Everything comes from the person's own sidebar (mailbox.selectors.
folders), so another person's folder id is simply not found (404).

One template serves three requests: the whole page; the list alone for htmx (`list-section`,
after an action or a view change, with the sidebar's counts out of band); and a poll for mail
newer than the newest row shown (`?since=`, `poll-response`: rows to prepend, or 204).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from mailbox.selectors import folders, listing
from mailbox.selectors.folders import FolderItem, Sidebar
from mailbox.selectors.listing import Cursor, Listing
from mailbox.selectors.query import SearchQuery, parse
from mailbox.tasks.sync import sync_folder_task

TEMPLATE = "mail/list.html"
VIEW_KEY = "mail_list_view"  # in the session: "threads" or "messages"


@dataclass
class ListPage:
    """What list.html needs besides the rows."""

    title: str
    listing: Listing
    current_folder: FolderItem | None = None
    is_unified: bool = False
    is_search: bool = False
    query: str = ""
    notice: str = ""


@login_required
@require_GET
def unified_inbox(request: HttpRequest) -> HttpResponse:
    bar = folders.sidebar(request.user)
    inboxes = bar.inboxes
    if not _is_refresh(request):
        _ask_for_sync(inboxes)
    notice = "" if inboxes or not bar.accounts else "Your mail is on its way: the first sync runs."
    target = Listing(tuple(f.id for f in inboxes), threads=_wants_threads(request))
    return _render(request, bar, ListPage("Inbox", target, is_unified=True, notice=notice))


@login_required
@require_GET
def folder(request: HttpRequest, folder_id: int) -> HttpResponse:
    bar = folders.sidebar(request.user)
    item = bar.folder(folder_id)
    if item is None:
        raise Http404("No such folder.")
    if not _is_refresh(request):
        _ask_for_sync([item])
    ids = (item.id,) if item.is_selectable else ()
    notice = "" if item.is_selectable else "This folder holds only other folders."
    target = Listing(ids, threads=_wants_threads(request))
    return _render(request, bar, ListPage(item.label, target, current_folder=item, notice=notice))


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    bar = folders.sidebar(request.user)
    text = request.GET.get("q", "").strip()
    query = parse(text)
    if query.is_empty:
        target, notice = Listing(()), "Type words to look for, or from:, in:, is:unread…"
    else:
        target = listing.search_listing(bar, query, timezone.get_current_timezone())
        notice = _search_notice(query, target)
    page = ListPage("Search", target, is_search=True, query=text, notice=notice)
    return _render(request, bar, page)


@login_required
@require_GET
def sidebar(request: HttpRequest) -> HttpResponse:
    """The sidebar's counts, refreshed by its own poll."""
    context = {"sidebar": folders.sidebar(request.user), **_poll_context()}
    current = request.GET.get("folder", "")
    context["current_folder_id"] = int(current) if current.isdigit() else None
    context["is_unified"] = request.GET.get("unified") == "1"
    return render(request, "mail/_sidebar.html#sidebar-body", context)


def _render(request: HttpRequest, bar: Sidebar, page: ListPage) -> HttpResponse:
    since = Cursor.parse(request.GET.get("since"))
    if since is not None:
        return _poll(request, bar, page, since)
    template = TEMPLATE
    if request.htmx and request.htmx.target == "mail-list":
        template = f"{TEMPLATE}#list-section"
    response = _render_page(request, bar, page, template)
    # The list alone and the whole page share a URL: a browser must not reuse one for the other.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _render_page(request: HttpRequest, bar: Sidebar, page: ListPage, template: str) -> HttpResponse:
    after = Cursor.parse(request.GET.get("after"))
    before = Cursor.parse(request.GET.get("before"))
    found = listing.page(page.listing, after=after, before=before)
    listing.label(found.rows, bar)
    context = _context(request, bar, page) | {
        "page": found,
        "rows": found.rows,
        "is_first_page": after is None and found.newer is None,
        "since": str(found.newest or Cursor(listing.EPOCH, 0)),
    }
    return render(request, template, context)


def _poll(request: HttpRequest, bar: Sidebar, page: ListPage, since: Cursor) -> HttpResponse:
    rows = listing.label(listing.newer_rows(page.listing, since), bar)
    if not rows:
        return HttpResponse(status=204)
    if len(rows) >= listing.PAGE_SIZE:  # a flood (or a first sync): the first page afresh
        response = _render_page(request, bar, page, f"{TEMPLATE}#list-section")
        response["HX-Retarget"], response["HX-Reswap"] = "#mail-list", "innerHTML"
        return response
    context = _context(request, bar, page) | {"rows": rows, "since": str(rows[0].cursor)}
    return render(request, f"{TEMPLATE}#poll-response", context)


def _context(request: HttpRequest, bar: Sidebar, page: ListPage) -> dict[str, object]:
    today = timezone.localdate()
    current = page.current_folder
    return {
        "sidebar": bar,
        "list": page,
        "title": page.title,
        "list_label": page.title,
        "current_folder_id": current.id if current else None,
        "is_unified": page.is_unified,
        "threads": page.listing.threads,
        "show_accounts": len(bar.accounts) > 1 and not current,
        "move_targets": [
            (account, [f for f in account.all_folders if f.is_selectable])
            for account in bar.accounts
        ],
        "today": today.isoformat(),
        "this_year": str(today.year),
        "next_url": _list_url(request),
        **_poll_context(),
    }


def _list_url(request: HttpRequest) -> str:
    """Where an action goes back to: this list, not a poll of it."""
    query = request.GET.copy()
    query.pop("since", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _poll_context() -> dict[str, object]:
    return {"poll_seconds": settings.MAIL_LIST_POLL_SECONDS}


def _wants_threads(request: HttpRequest) -> bool:
    """?view=threads or ?view=messages switches, and the session remembers the choice."""
    chosen = request.GET.get("view")
    if chosen in ("threads", "messages") and request.session.get(VIEW_KEY) != chosen:
        request.session[VIEW_KEY] = chosen
    return request.session.get(VIEW_KEY) == "threads"


def _is_refresh(request: HttpRequest) -> bool:
    """A poll or an htmx refresh, not somebody opening the list."""
    return bool(request.htmx) or "since" in request.GET


def _ask_for_sync(items: Iterable[FolderItem]) -> None:
    """Somebody opened these folders: bring them up to date now, at most once per folder every
    MAIL_OPEN_SYNC_MIN_SECONDS (the cache's add() is the claim, so two tabs ask once)."""
    seconds = settings.MAIL_OPEN_SYNC_MIN_SECONDS
    for item in items:
        if item.is_local or not item.is_selectable:
            continue
        if seconds <= 0 or cache.add(f"mail:open-sync:{item.id}", 1, timeout=seconds):
            transaction.on_commit(partial(sync_folder_task.delay, item.id), robust=True)


def _search_notice(query: SearchQuery, target: Listing) -> str:
    if query.folders and not target.folder_ids:
        return "No folder is called " + " or ".join(f"“{name}”" for name in query.folders) + "."
    return ""
