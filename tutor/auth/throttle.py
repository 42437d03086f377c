"""Sign-in throttling as a pure rule: after too many recent failures, further attempts wait.

Failures are counted per account name and per client (address), each with its own limit; the caller stores the
failure times and passes them in with the current time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5
    """Failures allowed within `window` before the key is locked."""
    window: timedelta = timedelta(minutes=15)
    """How long a failure counts; also how long the lock lasts after the failure that reached the limit."""


def locked_until(failures: Sequence[datetime], now: datetime, policy: Policy) -> datetime | None:
    """When attempts may resume, or None when they may go ahead now.

    Locked while at least `max_failures` failures lie within `window` before `now`; the lock ends when the oldest
    of the latest `max_failures` of them leaves the window.
    """
    recent = sorted(t for t in failures if now - policy.window < t <= now)
    if len(recent) < policy.max_failures:
        return None
    return recent[-policy.max_failures] + policy.window
