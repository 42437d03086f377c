"""Limits on the language model: a deadline per learner turn, jittered retry delays, a daily token budget.
(No SDK here: the offline path imports this too.)

- `TurnDeadline`: one per learner turn (started when the turn's provider is built). Every call and retry of the
  turn draws on it; once it has run out, calls are not made and the offline provider answers.
- `retry_delay`: "full jitter" backoff: a random wait in [0, min(cap, base * 2**attempt)], added to any
  `retry-after` the server sent, so learners rate-limited at the same moment come back at different moments.
- `day_start`: the start of the (UTC) day a daily token budget counts from.
- `fallback_notice`: the line a learner is shown when a call was answered offline: what happened, said once
  where it lasts (a rejected key), and nothing that would help an attacker (no key, no server message).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tutor.llm.base import Provider, ProviderError

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
RETRY_AFTER_CAP_S = 60.0
"""A server's retry-after beyond this is not waited for (the turn deadline is far shorter anyway)."""


class TurnDeadlineError(ProviderError):
    """The turn's time for the language model has run out; the offline provider answers."""


class KeyRejectedError(ProviderError):
    """The API key was refused (401/403). `first` is True only for the refusal the server sent; later calls are
    not sent at all and raise this with `first=False`, so the learner is told once."""

    def __init__(self, message: str, *, first: bool) -> None:
        super().__init__(message)
        self.first = first


class TokenBudgetError(ProviderError):
    """The learner's daily token budget is spent; the offline provider answers until the next day (UTC)."""


class TurnDeadline:
    """The seconds one learner turn may spend on the language model, across all its calls and retries."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    @classmethod
    def unlimited(cls) -> TurnDeadline:
        return cls(math.inf)

    def remaining(self) -> float:
        return max(0.0, self._ends - self._clock())

    def check(self, doing: str) -> float:
        """The seconds left, or TurnDeadlineError when none are."""
        left = self.remaining()
        if left <= 0:
            raise TurnDeadlineError(f"the turn's {self.seconds:g} s for the language model ran out before {doing}")
        return left


def retry_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt + 1` (attempt 0 is the first retry)."""
    window = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0**attempt)
    floor = min(retry_after, RETRY_AFTER_CAP_S) if retry_after is not None and retry_after > 0 else 0.0
    return floor + rng.uniform(0.0, window)


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: a daily token budget counts the tokens spent since then."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def spending_limited(provider: Provider, *, limit: int | None, spent: Callable[[], int], who: str) -> Provider:
    """`provider`, or when `who` has spent `limit` tokens today (`spent()`), the same provider answering every
    call offline with a TokenBudgetError as the reported reason. Offline providers are never limited."""
    from tutor.llm.offline import OfflineProvider

    if limit is None or isinstance(provider, OfflineProvider):
        return provider
    used = spent()
    if used < limit:
        return provider
    from tutor.llm.fallback import FallbackProvider

    if not isinstance(provider, FallbackProvider):
        return provider
    return provider.offline_because(TokenBudgetError(f"{who} has used {used:,} of the {limit:,} tokens a day allows"))


FAILED_NOTICE = "The language model did not answer; this reply comes from the offline tutor."


def fallback_notice(error: Exception) -> str | None:
    """What the learner is told when a call was answered offline because of `error`; None when already told."""
    if isinstance(error, KeyRejectedError):
        return ("The tutor's Anthropic API key was rejected, so replies come from the offline tutor until an "
                "administrator sets a valid key." if error.first else None)
    if isinstance(error, TokenBudgetError):
        return "You have used today's allowance of the language model; the tutor continues offline until tomorrow."
    if isinstance(error, TurnDeadlineError):
        return "The language model took too long; this reply comes from the offline tutor."
    return FAILED_NOTICE
