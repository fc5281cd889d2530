"""How fast the reading pages answer on a big mailbox (issue 5, point 10), on PostgreSQL.

100,000 realistic messages for one person with two accounts (benchmarks/big_mailbox.py: real
bodies, attachments, conversations, a rare word in a few), then the server time of each page
through Django's test client against the real URLs, with no response caching (the app has no
cache middleware: every request renders afresh): p50 and p95 over --requests requests, the
Python process's CPU time, the SQL queries a page makes and whether one uses OFFSET, next to
a baseline measured in the same run (a `SELECT 1` round trip, /healthz through the same
client and middleware). With --explain, the plan (EXPLAIN ANALYZE) of each page's slowest
SELECT. The cpu column leaves out the database and the waits of a busy machine: on two
shared cores, other work shows in the wall times (the load average is printed).

    .venv/bin/python -m benchmarks.reading [--messages 100000] [--requests 100] [--explain]

It creates its own database (bench_reading_<pid> on --server) and drops it at the end unless
--keep; --reuse NAME measures a kept database again without seeding it.
"""

import argparse
import html
import math
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import big_mailbox
from benchmarks.big_mailbox import RARE_WORD, Mailbox

PAGE_SIZE = 50
DEEP_PAGE = 1000
COMMON_WORD = "meeting"  # one of the 28 words messages.volume() writes bodies with
OPERATOR_QUERY = "from:anna is:unread before:2026-01-01"
INBOX_TARGET_MS, SEARCH_TARGET_MS = 50, 150

# Timing ---------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    urls: list[str]  # one per request, cycled
    target_ms: float | None = None


@dataclass
class Timings:
    wall_ms: list[float]
    # This process's CPU time: Django's own share, without the database's time nor the waits
    # of a machine busy with other work (what wall time shows when the two cores are shared).
    cpu_ms: list[float]
    statuses: set[int]


@dataclass
class Figures:
    case: Case
    timings: Timings
    queries: int
    uses_offset: bool
    selects: list[str] = field(default_factory=list)  # the SQL of one request's SELECTs
    rows: int = 0  # message rows the page shows (a deep page must show a full page too)

    @property
    def p50(self) -> float:
        return percentile(self.timings.wall_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.timings.wall_ms, 95)

    @property
    def cpu_p50(self) -> float:
        return percentile(self.timings.cpu_ms, 50)


def percentile(values: Sequence[float], rank: float) -> float:
    """Nearest rank: the smallest value with at least `rank` % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def timed_requests(client: Any, urls: Sequence[str], requests: int) -> Timings:
    timings = Timings([], [], set())
    for index in range(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(urls[index % len(urls)])
        timings.cpu_ms.append((time.process_time() - cpu) * 1000)
        timings.wall_ms.append((time.perf_counter() - wall) * 1000)
        timings.statuses.add(response.status_code)
    return timings


def counted(client: Any, url: str) -> tuple[int, bool, list[str], int]:
    """Queries one request makes, whether one says OFFSET, its SELECTs' SQL, and the rows of
    the list it shows (li.row[data-location], templates/mail/list.html)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        content = client.get(url).content
    sqls = [query["sql"] for query in captured.captured_queries]
    offset = any(re.search(r"\bOFFSET\b", sql, re.IGNORECASE) for sql in sqls)
    selects = [sql for sql in sqls if sql.lstrip().upper().startswith("SELECT")]
    return len(sqls), offset, selects, content.count(b" data-location=")


def measure(
    client: Any, case: Case, requests: int, *, warm: Sequence[str] = (), count: str = ""
) -> Figures:
    """`requests` timed requests after a warm-up (by default the case's own first URLs); the
    queries of one more request in the same state as the timed ones (`count`: e.g. a first
    open of another message)."""
    warm = warm or case.urls[:3]
    timed_requests(client, warm, len(warm))
    timings = timed_requests(client, case.urls, requests)
    queries, offset, selects, rows = counted(client, count or case.urls[0])
    return Figures(case, timings, queries, offset, selects, rows)


def baseline_select_ms(requests: int) -> list[float]:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(requests):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return times


def deep_cursor(folder_ids: Sequence[int], *, threads: bool, page: int) -> tuple[str, int]:
    """The `after` cursor of page `page` (what following "Older" page - 1 times reaches), read
    through the list's own selector a few thousand rows at a time; and the page reached, lower
    when the list is shorter."""
    from mailbox.selectors import listing

    target = listing.Listing(tuple(folder_ids), threads=threads)
    wanted, rows, cursor = (page - 1) * PAGE_SIZE, 0, None
    while rows < wanted:
        found = listing.page(target, after=cursor, size=min(5000, wanted - rows))
        if found.older is None:  # the list ends here: the last full page instead
            rows += len(found.rows)
            return _cursor_of_row(target, max(0, (rows - 1) // PAGE_SIZE * PAGE_SIZE))
        rows += len(found.rows)
        cursor = found.older
    return (str(cursor) if cursor else ""), page


def _cursor_of_row(target: Any, rows_before: int) -> tuple[str, int]:
    from mailbox.selectors import listing

    if rows_before == 0:
        return "", 1
    found = listing.page(target, size=rows_before)
    return str(found.rows[-1].cursor), rows_before // PAGE_SIZE + 1


def list_cases(box: Mailbox, pages: int = DEEP_PAGE) -> list[Case]:
    from django.urls import reverse

    big = box.folders["a", "INBOX"]
    lists = [
        ("unified inbox", reverse("mail:inbox"), [f.pk for f in box.inboxes]),
        ("one account's inbox", reverse("mail:folder", args=[big.pk]), [big.pk]),
    ]
    cases = []
    for threads in (False, True):
        view = "threads" if threads else "messages"
        for label, path, folder_ids in lists:
            name = f"{label}{', conversations' if threads else ''}"
            cases.append(Case(f"{name}, page 1", [f"{path}?view={view}"], INBOX_TARGET_MS))
            after, reached = deep_cursor(folder_ids, threads=threads, page=pages)
            url = f"{path}?view={view}&after={after}" if after else f"{path}?view={view}"
            cases.append(Case(f"{name}, page {reached:,}", [url], INBOX_TARGET_MS))
    return cases


def search_cases() -> list[Case]:
    from urllib.parse import urlencode

    from django.urls import reverse

    path = reverse("mail:search")
    queries = [
        ("a common word", COMMON_WORD),
        ("a rare word", RARE_WORD),
        ("operators", OPERATOR_QUERY),
    ]
    return [
        Case(f"search: {label}", [f"{path}?{urlencode({'q': q})}"], SEARCH_TARGET_MS)
        for label, q in queries
    ]


def message_urls(box: Mailbox, count: int) -> list[str]:
    """Pages of `count` random messages of the inboxes, as people open them the first time:
    unread, their HTML never sanitised (so a kept database measured again has first opens)."""
    from django.urls import reverse

    from mailbox.models import MessageLocation

    new = MessageLocation.objects.filter(
        folder__in=box.inboxes, is_seen=False, message__sanitizer_version__isnull=True
    )
    ids = list(new.values_list("pk", flat=True))
    chosen = random.Random(os.getpid()).sample(ids, min(len(ids), count))
    return [reverse("mail:message", args=[pk]) for pk in chosen]


def frame_url_of(content: bytes) -> str:
    match = re.search(rb'class="message-frame" src="([^"]+)"', content)
    return html.unescape(match[1].decode()) if match else ""


def message_figures(client: Any, box: Mailbox, requests: int) -> list[Figures]:
    """First opens (mark read, sanitise and store the HTML: each a different message), the
    same messages opened again, and their frames (the body, a request of its own)."""
    urls = message_urls(box, requests + 2)
    if len(urls) < 3:
        return []
    *opened, warm, count = urls
    first = Case("message, first open", opened, INBOX_TARGET_MS)
    figures = [measure(client, first, requests, warm=[warm], count=count)]
    again = Case("message, opened again", opened, INBOX_TARGET_MS)
    figures.append(measure(client, again, requests))
    frames = [frame_url_of(client.get(url).content) for url in opened]
    frame = Case("message frame (its body)", frames, INBOX_TARGET_MS)
    figures.append(measure(client, frame, requests))
    return figures


def run_cases(client: Any, box: Mailbox, requests: int, pages: int = DEEP_PAGE) -> list[Figures]:
    """Every page of the issue's list, each `requests` times."""
    figures = [measure(client, case, requests) for case in list_cases(box, pages)]
    figures += message_figures(client, box, requests)
    figures += [measure(client, case, requests) for case in search_cases()]
    return figures


def baselines(client: Any, requests: int) -> tuple[list[float], list[float]]:
    timed_requests(client, ["/healthz"], 3)
    return baseline_select_ms(requests), timed_requests(client, ["/healthz"], requests).wall_ms


def report(figures: list[Figures], select_ms: list[float], healthz_ms: list[float]) -> list[str]:
    base = percentile(healthz_ms, 50)
    lines = [
        f"baseline: SELECT 1 p50 {percentile(select_ms, 50):.2f} ms, "
        f"p95 {percentile(select_ms, 95):.2f} ms; /healthz p50 {base:.2f} ms, "
        f"p95 {percentile(healthz_ms, 95):.2f} ms",
        f"{'page':<46} {'p50 ms':>7} {'p95 ms':>7} {'x healthz':>9} {'cpu p50':>7} "
        f"{'queries':>7} {'OFFSET':>6} {'rows':>4} {'target':>6}  status",
    ]
    for f in figures:
        target = f.case.target_ms
        verdict = "" if target is None else ("ok" if f.p95 < target else "MISSED")
        codes = ",".join(map(str, sorted(f.timings.statuses)))
        lines.append(
            f"{f.case.name:<46} {f.p50:7.1f} {f.p95:7.1f} {f.p50 / base:9.1f} {f.cpu_p50:7.1f} "
            f"{f.queries:7d} {'yes' if f.uses_offset else 'no':>6} {f.rows:4d} {target or '':>6}  "
            f"{codes} {verdict}"
        )
    return lines


def slowest_plan(selects: Sequence[str]) -> tuple[str, str]:
    """The SELECT of a request that took the database longest under EXPLAIN ANALYZE, and its
    plan (PostgreSQL only: SQLite has no ANALYZE). Only SELECTs: ANALYZE runs the statement."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "", ""
    plans = []
    with connection.cursor() as cursor:
        for sql in selects:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            found = re.search(r"Execution Time: ([\d.]+) ms", plan)
            plans.append((float(found[1]) if found else 0.0, sql, plan))
    _, sql, plan = max(plans, default=(0.0, "", ""))
    return sql, plan


def search_hits(box: Mailbox) -> list[str]:
    """How many messages each searched word is in: the common word's share matters."""
    from mailbox.models import Message
    from mailbox.search import matching

    mine = Message.objects.filter(account__user=box.user)
    return [
        f"'{word}' is in {matching(mine, word).count():,} messages"
        for word in (COMMON_WORD, RARE_WORD)
    ]


# The run --------------------------------------------------------------------------------------


def signed_in_client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def measure_all(box: Mailbox, requests: int, *, show_plans: bool) -> list[str]:
    client = signed_in_client(box.user)
    loads = [f"load average before: {_load()}"]
    select_ms, healthz_ms = baselines(client, requests)
    figures = run_cases(client, box, requests)
    loads.append(f"load average after: {_load()} ({os.cpu_count()} cores)")
    lines = search_hits(box) + loads + report(figures, select_ms, healthz_ms)
    if show_plans:
        for f in figures:
            sql, plan = slowest_plan(f.selects)
            lines += ["", f"-- {f.case.name}: its slowest query", sql, plan]
    return lines


def _load() -> str:
    """Other work on the machine shows in wall times (not in the cpu column)."""
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


def run(args: argparse.Namespace) -> None:
    name = args.reuse or f"bench_reading_{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir="/tmp"))
    if not args.reuse:
        big_mailbox.create_database(args.server, name)
    try:
        big_mailbox.configure_django(folder, f"{args.server.rstrip('/')}/{name}")
        box = big_mailbox.seeded_mailbox() if args.reuse else seeded(args.messages)
        for line in measure_all(box, args.requests, show_plans=args.explain):
            print(line, flush=True)
    finally:
        _close(args, name, folder)


def seeded(count: int) -> Mailbox:
    box = big_mailbox.seed(count)
    print(
        f"seeded {box.messages:,} messages ({box.rare_messages} with '{RARE_WORD}') in "
        f"{box.seconds:.0f} s: {box.messages / box.seconds:,.0f} messages/s",
        flush=True,
    )
    started = time.perf_counter()
    big_mailbox.vacuum_analyze()
    print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s", flush=True)
    return box


def _close(args: argparse.Namespace, name: str, folder: Path) -> None:
    from django.apps import apps

    if apps.ready:
        big_mailbox.close_django()
    if args.keep or args.reuse:
        print(f"kept database {name} (--reuse {name} measures it again)")
    else:
        big_mailbox.drop_database(args.server, name)
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a kept database again")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
