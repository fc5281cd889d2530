"""benchmarks/reading.py at a tiny size on the test database, so that it cannot rot between
measurements: the seeding (benchmarks/big_mailbox.py), then every page it times, a few
requests each. No timed assertions: figures exist, pages answer, queries do not grow."""

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from benchmarks import big_mailbox, reading
from benchmarks.big_mailbox import Mailbox
from tests.conftest import require_service

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def box(db: None) -> Mailbox:
    return big_mailbox.seed(300, batch=100)


@pytest.mark.django_db
@pytest.mark.both_databases
def test_the_seeding_stores_real_bodies_with_a_rare_word(box: Mailbox) -> None:
    from mailbox.models import Attachment, Message, MessageLocation

    assert box.messages >= 300 and box.seconds > 0 and box.rare_messages >= 1
    mine = Message.objects.filter(account__user=box.user)
    assert mine.count() == box.messages
    assert not mine.filter(body_state="envelope").exists()
    assert Attachment.objects.filter(message__account__user=box.user).exists()
    assert mine.filter(thread__isnull=False).count() == box.messages
    assert MessageLocation.objects.filter(folder__in=box.inboxes, is_seen=False).exists()
    common, rare = reading.search_hits(box)
    assert common.startswith(f"'{reading.COMMON_WORD}' is in") and rare.endswith(
        f"in {box.rare_messages} messages"
    )


@pytest.mark.django_db
@pytest.mark.both_databases
def test_every_page_answers_and_gets_figures(box: Mailbox) -> None:
    client = reading.signed_in_client(box.user)
    select_ms, healthz_ms = reading.baselines(client, requests=2)
    figures = reading.run_cases(client, box, requests=3, pages=3)

    names = [f.case.name for f in figures]
    assert (
        "unified inbox, page 3" in names and "one account's inbox, conversations, page 3" in names
    )
    assert {"message, first open", "message frame (its body)", "search: operators"} <= set(names)
    for f in figures:
        assert f.timings.statuses == {200}, f.case.name
        assert len(f.timings.wall_ms) == 3 and f.p95 >= f.p50 > 0 and f.queries > 0
        assert not f.uses_offset, f.case.name
    lines = reading.report(figures, select_ms, healthz_ms)
    assert len(lines) == len(figures) + 2 and lines[0].startswith("baseline: SELECT 1")


@pytest.mark.django_db
@pytest.mark.both_databases
def test_plans_come_from_postgresql(box: Mailbox) -> None:
    from django.db import connection

    client = reading.signed_in_client(box.user)
    inbox = reading.list_cases(box, pages=2)[0]
    figures = reading.measure(client, inbox, 1)

    sql, plan = reading.slowest_plan(figures.selects)
    if connection.vendor == "postgresql":
        assert sql.startswith("SELECT") and "Execution Time" in plan
    else:
        assert (sql, plan) == ("", "")


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_deep_page_costs_the_queries_of_the_first(box: Mailbox) -> None:
    client = reading.signed_in_client(box.user)
    figures = [reading.measure(client, case, 1) for case in reading.list_cases(box, pages=4)]

    for first, deep in zip(figures[::2], figures[1::2], strict=True):
        assert deep.case.name.endswith("page 4")
        assert deep.queries == first.queries, deep.case.name


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_page_past_the_end_is_the_last_page(box: Mailbox) -> None:
    inbox = box.folders["a", "INBOX"]
    rows = inbox.locations.count()

    after, reached = reading.deep_cursor([inbox.pk], threads=False, page=1000)

    assert reached == (rows - 1) // reading.PAGE_SIZE + 1 and after


@pytest.mark.timeout(180)
def test_the_command_seeds_measures_and_drops_its_own_database() -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        require_service("the reading benchmark needs PostgreSQL")
    server = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}"
    before = _bench_databases(server)

    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.reading", "--messages", "200", "--requests", "2",
         "--server", server, "--explain"],
        cwd=PROJECT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("seeded 2", "baseline: SELECT 1", "unified inbox, page 1 ", "search: operators",
                   "message, first open", "Execution Time"):  # fmt: skip
        assert figure in result.stdout, result.stdout
    assert _bench_databases(server) == before


def _bench_databases(server: str) -> set[str]:
    url = f"{server.replace('postgres://', 'postgresql://', 1)}/postgres"
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_reading_%'")
        return {name for (name,) in rows}
