"""benchmarks/send.py at a tiny size, in its own process (it sets up its own Django, servers,
Redis and worker), so that it cannot rot between measurements; and its verdicts."""

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.send import report
from benchmarks.send_outbox import Throughput
from tests.harness.mailservers import missing_packages

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_the_send_benchmark_prints_every_figure(mail_servers) -> None:  # type: ignore[no-untyped-def]
    assert not missing_packages()  # the mail_servers fixture installed them (or failed in CI)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.send", "--messages", "3", "--queued", "20"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=220,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("Send -> 250, p50 (3 messages)", "Send -> 250, p95", "< 1000 ms",
                   "outbox, 20 queued: sending", "msg/s", "Sent copies (APPEND)",
                   "sweeps", "load average:"):  # fmt: skip
        assert figure in result.stdout, result.stdout


def test_the_verdicts_follow_the_targets() -> None:
    latencies, baseline = [100.0] * 18 + [1200.0] * 2, [50.0] * 20
    slow = Throughput(messages=100, sweeps=2, send_seconds=2.0, copy_seconds=1.0, total_seconds=3)

    fast_lines = report([100.0] * 20, baseline, slow, plain_rate=99.0)
    slow_lines = report(latencies, baseline, slow, plain_rate=101.0)

    assert "p95" in fast_lines[2] and fast_lines[2].endswith("ok")
    assert slow_lines[2].endswith("MISSED")  # p95 is 1,200 ms
    assert fast_lines[3].endswith(">= 0.5 ok")  # 50 msg/s against 99
    assert slow_lines[3].endswith(">= 0.5 MISSED")  # 50 msg/s against 101
    assert " 0.51 " in fast_lines[3] and " 50 msg/s" in fast_lines[3]
