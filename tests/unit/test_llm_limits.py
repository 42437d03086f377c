"""The language model's limits as pure rules: the turn deadline, jittered retry waits, the day a token budget
counts from, and what a learner is told about each kind of fallback."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.llm import OfflineProvider, ProviderError, limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_deadline_runs_down_with_the_clock_and_then_refuses() -> None:
    clock = FakeClock()
    deadline = limits.TurnDeadline(20.0, clock)
    assert deadline.check("calling") == 20.0
    clock.now += 19.5
    assert deadline.remaining() == pytest.approx(0.5)
    clock.now += 1.0
    assert deadline.remaining() == 0.0
    with pytest.raises(limits.TurnDeadlineError, match="the turn's 20 s for the language model ran out before calling"):
        deadline.check("calling")


@given(attempt=st.integers(0, 20), after=st.none() | st.floats(0.0, 1000.0), seed=st.integers())
def test_a_retry_wait_is_retry_after_plus_a_bounded_random_share(attempt: int, after: float | None, seed: int) -> None:
    wait = limits.retry_delay(attempt, after, random.Random(seed))
    floor = min(after, limits.RETRY_AFTER_CAP_S) if after else 0.0
    assert floor <= wait <= floor + min(limits.BACKOFF_CAP_S, limits.BACKOFF_BASE_S * 2**attempt)


def test_learners_told_to_wait_the_same_time_come_back_spread_out() -> None:
    """100 learners rate-limited at once with retry-after 2 s: their retries spread over the jitter window."""
    waits = [limits.retry_delay(1, 2.0, random.Random(learner)) for learner in range(100)]
    assert min(waits) >= 2.0 and max(waits) <= 2.0 + 1.0
    assert len({round(w, 3) for w in waits}) > 90
    assert statistics.pstdev(waits) > 0.2  # uniform over 1 s has a standard deviation of 0.29 s


def test_the_budget_day_starts_at_midnight_utc() -> None:
    late = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 04:30 UTC on Dec 1
    assert limits.day_start(late) == datetime(2026, 12, 1, tzinfo=UTC)


def test_each_fallback_says_what_happened_and_a_rejected_key_is_said_once() -> None:
    assert limits.fallback_notice(ProviderError("overloaded")) == (
        "The language model did not answer; this reply comes from the offline tutor.")
    assert "took too long" in str(limits.fallback_notice(limits.TurnDeadlineError("late")))
    assert "today's allowance" in str(limits.fallback_notice(limits.TokenBudgetError("spent")))
    first = limits.fallback_notice(limits.KeyRejectedError("rejected", first=True))
    assert first is not None and "API key was rejected" in first
    assert limits.fallback_notice(limits.KeyRejectedError("rejected", first=False)) is None


def test_the_offline_provider_is_never_limited_and_the_count_is_not_even_read() -> None:
    offline = OfflineProvider()

    def spent() -> int:
        raise AssertionError("the ledger was read for an offline provider")

    assert limits.spending_limited(offline, limit=10, spent=spent, who="ann") is offline
