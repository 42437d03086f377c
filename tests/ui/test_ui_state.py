"""The turn runner: a turn finishes (and is saved) even when the page stops reading it, and two turns of the
same learner and course never run at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from ui.state import TurnRunner


def test_a_turn_runs_to_the_end_when_the_page_stops_reading() -> None:
    runner = TurnRunner()
    finished = threading.Event()

    def turn() -> Iterator[dict[str, Any]]:
        for i in range(5):
            time.sleep(0.01)
            yield {"type": "text", "text": str(i)}
        finished.set()

    events = runner.run("alice", "fractions", turn)
    assert next(events) == {"type": "text", "text": "0"}
    events.close()  # the script run was interrupted (the learner clicked something)
    assert finished.wait(5), "the turn was abandoned half-way"
    assert runner.wait_idle("alice", "fractions", timeout=5)


def test_a_second_turn_waits_for_the_first_and_other_learners_do_not() -> None:
    runner = TurnRunner()
    release = threading.Event()
    order: list[str] = []

    def slow() -> Iterator[dict[str, Any]]:
        release.wait(5)
        order.append("first")
        yield {"type": "text", "text": "done"}

    first = runner.run("alice", "fractions", slow)
    reader = threading.Thread(target=lambda: list(first))
    reader.start()
    time.sleep(0.05)
    assert not runner.wait_idle("alice", "fractions", timeout=0.1)
    assert runner.wait_idle("bob", "fractions", timeout=0.1)
    release.set()
    assert runner.wait_idle("alice", "fractions", timeout=5)
    reader.join(5)
    assert order == ["first"]


def test_a_failing_turn_ends_with_an_error_event_and_frees_the_learner() -> None:
    runner = TurnRunner()

    def broken() -> Iterator[dict[str, Any]]:
        yield {"type": "text", "text": "Half"}
        raise RuntimeError("database is locked")

    events = list(runner.run("alice", "fractions", broken))
    assert events[0] == {"type": "text", "text": "Half"}
    assert events[-1]["type"] == "error" and "please send your message again" in events[-1]["text"]
    assert runner.wait_idle("alice", "fractions", timeout=1)
