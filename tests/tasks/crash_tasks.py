"""Tasks that only the test worker loads (`--include`), to prove delivery guarantees."""

import os
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.crash_once")
def crash_once(marker: str) -> str:
    """Dies like an OOM-killed process the first time, succeeds when delivered again."""
    path = Path(marker)
    if not path.exists():
        path.write_text("crashed once\n")
        os._exit(1)
    return "ran again"
