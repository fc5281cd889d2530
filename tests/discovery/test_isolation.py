"""Discovery is called from a service, a view and a management command: it knows no Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_discovery_loads_no_django() -> None:
    code = (
        "import sys, accounts.discovery\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
