"""benchmarks/sync_first.py at a tiny size, in its own process (it sets up its own Django)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.mailservers import missing_packages

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_sync_benchmark_prints_every_figure(mail_servers) -> None:  # type: ignore[no-untyped-def]
    assert not missing_packages()  # the mail_servers fixture installed them (or failed in CI)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.sync_first", "--messages", "20", "--big", "1",
         "--memory", "20", "--rounds", "2"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=220,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("limit:", "limit, median of 2:", "envelopes in the database, median of 2:",
                   "full first sync, median of 2:", "share of its round's limit: median",
                   "unchanged resync:",
                   "flag changes,", "stored:", "syncmail, 20 messages: peak"):  # fmt: skip
        assert figure in result.stdout, result.stdout


def test_syncmail_peak_is_its_own_not_the_benchmarks() -> None:
    # On Linux a child's ru_maxrss starts at its parent's peak: measured from the benchmark
    # after it seeded a big folder, syncmail reported the benchmark's memory, not its own.
    script = (
        "import sys\n"
        "from benchmarks.sync_first import small_spawner\n"
        "with small_spawner() as spawn:\n"
        "    ballast = bytearray(300 * 1024 * 1024)  # the benchmark, grown after it started\n"
        "    print(*spawn([sys.executable, '-c', 'pass']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr[-3000:]
    status, maxrss_kib = map(int, result.stdout.split())
    assert status == 0
    assert maxrss_kib < 100 * 1024  # a bare interpreter: about 10 MB
