"""kill -9 at random moments while learners answer through the Tutor API, resumed each time (SQLite and
PostgreSQL): every acknowledged answer is in the ledger exactly once under its question, with the grade the learner
was shown; no resume shows an empty screen."""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.learner import course_dir
from tutor.records import Records
from tutor.retrieval import ingest_course, open_store
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
LEARNERS = [f"t{n}" for n in range(1, 61)]  # four at a time; 18-30 finished the course in a run here


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("store")
    ingest_course(open_store(Settings(data_dir=data)), course_dir("mini-course"))
    return data


class Drivers:
    """Learner drivers forked one at a time by `python -m tests.support.torture serve`, which has imported them
    once: a round costs no interpreter start-up, and each driver is still a process of its own to kill -9."""

    def __init__(self, log: Path) -> None:
        self._path = log
        self._log = log.open("w")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.torture", "serve"], cwd=ROOT, text=True, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put("GONE")

    def line(self) -> str:
        line = self._lines.get(timeout=300)
        assert line != "GONE", "the driver server ended"
        return line

    def start(self, *args: str) -> int:
        """Fork a driver with these arguments; its pid."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(shlex.join(args) + "\n")
        self._proc.stdin.flush()
        first = self.line()
        assert first.startswith("PID "), first
        return int(first.split()[1])

    def log_tail(self) -> str:
        """The end of what the drivers wrote to stderr (a driver's traceback)."""
        return self._path.read_text()[-2000:]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._log.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_minus_nine_loses_no_acknowledged_answer(
    backend: str, tmp_path: Path, store_dir: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    data = tmp_path / "data"
    rng = random.Random(11)
    acked: list[tuple[str, str, bool, str]] = []
    shown: list[str] = []

    def read(line: str) -> None:
        parts = line.split(" ", 4)
        if parts[0] == "ACK":
            acked.append((parts[1], parts[2], parts[3] == "1", parts[4]))
        elif parts[0] == "SHOWN":
            shown.append(parts[2])

    drivers = Drivers(tmp_path / "drivers.log")
    kills = 0
    for round_ in range(KILLS + 1):
        pid = drivers.start(str(data), str(store_dir), url, *LEARNERS, "--seed", str(round_),
                            "--turns", str(10_000 if round_ < KILLS else 6))
        line = drivers.line()
        if round_ < KILLS:
            while line != "READY":  # wait until it has resumed every learner, then let it answer a while
                assert not line.startswith("EXIT "), drivers.log_tail()
                read(line)
                line = drivers.line()
            time.sleep(rng.uniform(0.05, 1.5))
            with contextlib.suppress(ProcessLookupError):  # it may have finished: then it is not counted as a kill
                os.kill(pid, signal.SIGKILL)
            line = drivers.line()
        while not line.startswith("EXIT "):
            read(line)
            line = drivers.line()
        assert line in ("EXIT 0", f"EXIT {-signal.SIGKILL}"), drivers.log_tail()
        if line == f"EXIT {-signal.SIGKILL}":
            kills += 1
        if round_ == KILLS:
            assert line == "EXIT 0", drivers.log_tail()
    drivers.close()
    assert kills >= 20, f"only {kills} drivers were still answering when killed"
    assert "NOTHING" not in shown, "a resume showed an empty screen"
    assert len(acked) >= 10, "the learners hardly answered: the test proves nothing"
    records = Records(Settings(data_dir=data, database_url=url or None).resolved_database_url)
    attempts = records.attempts("mini")
    by_question = {a.question_id: a for a in attempts}
    assert len(by_question) == len(attempts)  # one attempt per question
    for learner, question_id, correct, text in acked:
        row = by_question.get(question_id)
        assert row is not None, f"acknowledged answer to {question_id} is not in the ledger"
        assert (row.learner_id, row.answer, row.correct) == (learner, text, correct)
    assert len({q for _, q, _, _ in acked}) == len(acked)  # nothing acknowledged twice
    records.close()
