"""Process-wide objects for the pages: the one Tutor (built once per process) and the turn runner.

A learner's turn runs the tutor graph in a worker thread and hands its events to the page through a queue.
If the page's script run is interrupted (the learner clicks something while a reply streams), the turn still
finishes and is checkpointed; the next run waits for it before reading the learner's state. One lock per
learner and course keeps two turns of the same session from running at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from tutor.errors import SetupError, load_settings, setup_errors, setup_message
from tutor.session import Tutor
from tutor.settings import Settings

log = logging.getLogger(__name__)

Event = dict[str, Any]
_DONE: Event = {"type": "done"}


def build_tutor(settings: Settings) -> Tutor:
    """The tutor for this process (replaced in tests)."""
    return Tutor(settings)


@st.cache_resource(show_spinner="Loading the tutor and the course material…")
def get_tutor() -> Tutor:
    """One Tutor per process, shared by every browser session (it holds no per-learner state itself).

    Raises SetupError with the one line to show when it cannot start (bad settings, a store that cannot be
    opened, a corrupted database or Chroma folder, a broken course); nothing is cached then."""
    settings = load_settings()
    try:
        return build_tutor(settings)
    except setup_errors() as exc:
        raise SetupError(setup_message(exc, settings)) from exc


@dataclass
class TurnRunner:
    """Runs learner turns in worker threads, one at a time per learner and course."""

    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def lock(self, learner_id: str, course_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(f"{learner_id}:{course_id}", threading.Lock())

    def wait_idle(self, learner_id: str, course_id: str, timeout: float = 300.0) -> bool:
        """Wait until no turn is running for this learner and course; False on timeout."""
        lock = self.lock(learner_id, course_id)
        if not lock.acquire(timeout=timeout):
            return False
        lock.release()
        return True

    def run(
        self, learner_id: str, course_id: str, turn: Callable[[], Iterator[Event]]
    ) -> Generator[Event, None, None]:
        """Run `turn` (tutor.start or tutor.send) in a worker thread; yield its events as they come.

        The worker finishes the turn even when the caller stops reading. Errors arrive as
        {"type": "error", "text": ...} events.
        """
        lock = self.lock(learner_id, course_id)
        lock.acquire()
        events: queue.Queue[Event] = queue.Queue()

        def work() -> None:
            try:
                for event in turn():
                    events.put(event)
            except Exception as exc:  # the turn must end with a message, whatever failed
                log.exception("turn failed for %s on %s", learner_id, course_id)
                events.put({"type": "error", "text": f"Something went wrong on our side ({type(exc).__name__}); "
                                                      "please send your message again."})
            finally:
                lock.release()
                events.put(_DONE)

        threading.Thread(target=work, name=f"turn-{learner_id}-{course_id}", daemon=True).start()
        while True:
            event = events.get()
            if event is _DONE:
                return
            yield event


@st.cache_resource
def get_runner() -> TurnRunner:
    return TurnRunner()
