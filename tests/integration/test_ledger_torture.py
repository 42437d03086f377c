"""kill -9 at random moments while learners answer through the Tutor API, resumed each time (SQLite and
PostgreSQL): every acknowledged answer is in the ledger exactly once under its question, with the grade the learner
was shown; no resume shows an empty screen."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.learner import course_dir
from tutor.records import Records
from tutor.retrieval import ingest_course, open_store
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
LEARNERS = ["t1", "t2", "t3", "t4"]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("store")
    ingest_course(open_store(Settings(data_dir=data)), course_dir("mini-course"))
    return data


def _driver(data: Path, store: Path, url: str, seed: int, turns: int = 10_000) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.torture", str(data), str(store), url, *LEARNERS, "--seed", str(seed),
         "--turns", str(turns)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


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

    def read(lines: str) -> None:
        for line in lines.splitlines():
            parts = line.split(" ", 4)
            if parts[0] == "ACK":
                acked.append((parts[1], parts[2], parts[3] == "1", parts[4]))
            elif parts[0] == "SHOWN":
                shown.append(parts[2])

    kills = 0
    for round_ in range(KILLS + 1):
        proc = _driver(data, store_dir, url, seed=round_, turns=10_000 if round_ < KILLS else 6)
        assert proc.stdout is not None
        if round_ < KILLS:
            line = proc.stdout.readline()  # wait until it has resumed every learner, then let it answer a while
            while line and line.strip() != "READY":
                read(line)
                line = proc.stdout.readline()
            time.sleep(rng.uniform(0.05, 1.5))
            proc.send_signal(signal.SIGKILL)
            kills += 1
        out, err = proc.communicate(timeout=300)
        read(out)
        if round_ == KILLS:
            assert proc.returncode == 0, err[-2000:]
    assert kills >= 20
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
