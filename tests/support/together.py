"""Start several processes' work at one moment, for tests that race processes against each other.

In the test: `start_together(procs)` waits until each process has printed `ready` (its imports done, its ledger
open) and then tells every one the same moment to begin. In each process: `start = ready()`, then `until(start +
...)` before each step that must happen at once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence

LEAD_S = 0.5  # from telling the moment to the moment itself


def ready() -> float:
    """(In a racing process.) Say so, then read the moment to begin at (seconds since the epoch) from stdin."""
    print("ready", flush=True)
    return float(sys.stdin.readline())


def until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.001)


def start_together(procs: Sequence[subprocess.Popen[str]]) -> None:
    """(In the test.) Wait for every process's `ready`, then give them all one moment, LEAD_S from now."""
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.communicate(timeout=60)[1][-800:]
    start = f"{time.time() + LEAD_S}\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(start)
        proc.stdin.flush()
