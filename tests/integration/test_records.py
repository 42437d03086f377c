"""The ledger in a real SQLite file: questions and attempts keyed by question, exact replays only, errors surfaced,
migrations from the schema before Alembic, and eight processes starting at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from tests.support.ledger import log_answer
from tests.support.together import start_together
from tutor.records import (
    AnswerConflict,
    GradedAnswer,
    IssuedQuestion,
    LedgerUnreadable,
    Records,
    UnknownQuestion,
    item_analysis,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _issue(records: Records, question_id: str, learner: str = "ann", item: str = "i1") -> None:
    records.issue_question(IssuedQuestion(question_id=question_id, learner_id=learner, course_id="c", skill_id="s",
                                          item_id=item, form="A", kind="numeric", seed=7, params={"a": 2},
                                          mode="learn", issued_at=NOW))


def _grade(question_id: str, answer: str, correct: bool) -> GradedAnswer:
    return GradedAnswer(question_id=question_id, answer=answer, correct=correct, grader="rule",
                        feedback=f"feedback for {answer}", created_at=NOW)


def test_an_attempt_is_tied_to_its_question_and_only_the_exact_replay_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    records = Records(url)
    _issue(records, "q1")
    first = records.record_attempt(_grade("q1", "3", True))
    again = records.record_attempt(_grade("q1", "3", True))  # a retry after a timeout: the original comes back
    assert again == first and again.feedback == "feedback for 3"
    with pytest.raises(AnswerConflict):
        records.record_attempt(_grade("q1", "4", False))  # another answer to an answered question
    with pytest.raises(UnknownQuestion):
        records.record_attempt(_grade("never-issued", "3", True))
    with pytest.raises(IntegrityError):
        _issue(records, "q1")  # issuing a question id twice is an error, not silently ignored
    records.close()
    reopened = Records(url)
    (row,) = reopened.attempts("c", "ann")
    assert (row.question_id, row.item_id, row.params, row.answer, row.correct, row.grader) == (
        "q1", "i1", {"a": 2}, "3", True, "rule")
    assert reopened.open_question("ann", "c") is None
    _issue(reopened, "q2")
    pending = reopened.open_question("ann", "c")
    assert pending is not None and pending.question_id == "q2"


def test_reads_are_per_learner(tmp_path: Path) -> None:
    records = Records(f"sqlite:///{tmp_path / 'r.db'}")
    log_answer(records, learner_id="ann", course_id="c", skill_id="s", item_id="i1", correct=True)
    log_answer(records, learner_id="bob", course_id="c", skill_id="s", item_id="i1", correct=False)
    assert [r.learner_id for r in records.attempts("c", "ann")] == ["ann"]
    assert len(records.attempts("c")) == 2
    assert [h.correct for h in records.history("c", "bob")] == [False]


def test_item_analysis_flags_a_broken_key_and_negative_discrimination(tmp_path: Path) -> None:
    records = Records(f"sqlite:///{tmp_path / 'r.db'}")

    def log(learner: int, item: str, correct: bool) -> None:
        log_answer(records, learner_id=f"l{learner}", course_id="c", skill_id="s", item_id=item, correct=correct)

    # ten learners: the strong ones (0-4) get the good items right, the weak ones (5-9) get them wrong
    for learner in range(10):
        strong = learner < 5
        for item in ("good1", "good2", "good3"):
            log(learner, item, strong)
        log(learner, "broken", False)  # nobody gets it right: wrong key?
        log(learner, "inverted", not strong)  # weak learners do better
    stats = {s.item_id: s for s in item_analysis(records.attempts("c"))}
    assert stats["good1"].share_correct == 0.5 and stats["good1"].discrimination is not None
    assert stats["good1"].discrimination > 0.5 and stats["good1"].flag is None
    assert stats["broken"].flag is not None and "wrong" in stats["broken"].flag
    assert stats["inverted"].discrimination is not None and stats["inverted"].discrimination < 0
    assert stats["inverted"].flag is not None and "negative" in stats["inverted"].flag


OLD_SCHEMA = """
CREATE TABLE attempts (id INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(200) NOT NULL UNIQUE,
  learner_id VARCHAR(100) NOT NULL, course_id VARCHAR(100) NOT NULL, skill_id VARCHAR(100) NOT NULL,
  item_id VARCHAR(100) NOT NULL, form VARCHAR(40) NOT NULL, kind VARCHAR(40) NOT NULL, params JSON NOT NULL,
  answer TEXT NOT NULL, correct BOOLEAN NOT NULL, misconception VARCHAR(100), hints_used INTEGER NOT NULL,
  review BOOLEAN NOT NULL, created_at DATETIME NOT NULL);
CREATE INDEX ix_attempts_learner_id ON attempts (learner_id);
CREATE INDEX ix_attempts_course_id ON attempts (course_id);
CREATE INDEX ix_attempts_item_id ON attempts (item_id);
CREATE TABLE explanations (id INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(200) NOT NULL UNIQUE,
  learner_id VARCHAR(100) NOT NULL, course_id VARCHAR(100) NOT NULL, skill_id VARCHAR(100) NOT NULL,
  purpose VARCHAR(40) NOT NULL, style VARCHAR(40) NOT NULL, passages JSON NOT NULL, provider VARCHAR(100) NOT NULL,
  created_at DATETIME NOT NULL);
CREATE INDEX ix_explanations_learner_id ON explanations (learner_id);
CREATE TABLE decisions (id INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(200) NOT NULL UNIQUE,
  learner_id VARCHAR(100) NOT NULL, course_id VARCHAR(100) NOT NULL, skill_id VARCHAR(100) NOT NULL,
  status VARCHAR(40) NOT NULL, p_known FLOAT NOT NULL, reasons JSON NOT NULL, misconceptions JSON NOT NULL,
  created_at DATETIME NOT NULL);
CREATE INDEX ix_decisions_learner_id ON decisions (learner_id);
CREATE TABLE usage (id INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(200) NOT NULL UNIQUE,
  learner_id VARCHAR(100) NOT NULL, course_id VARCHAR(100) NOT NULL, purpose VARCHAR(40) NOT NULL,
  provider VARCHAR(100) NOT NULL, model VARCHAR(100) NOT NULL, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
  fallback_reason TEXT, created_at DATETIME NOT NULL);
CREATE INDEX ix_usage_learner_id ON usage (learner_id);
INSERT INTO attempts VALUES (1, 'ann:fractions:1:attempt', 'ann', 'fractions', 'meaning', 'meaning-a1', 'A',
  'multiple_choice', '{}', 'one half', 1, NULL, 0, 0, '2026-01-01 09:00:00.000000');
INSERT INTO attempts VALUES (2, 'ann:fractions:2:attempt', 'ann', 'fractions', 'meaning', 'meaning-b1', 'B',
  'numeric', '{"n": 3}', '7', 0, 'swap', 1, 1, '2026-01-01 09:01:00.000000');
INSERT INTO decisions VALUES (1, 'ann:fractions:1:decision', 'ann', 'fractions', 'meaning', 'practice', 0.4,
  '[]', '[]', '2026-01-01 09:00:01.000000');
"""


def test_a_database_made_by_the_schema_before_migrations_is_upgraded_keeping_its_answers(tmp_path: Path) -> None:
    """The tables exactly as `create_all` made them before Alembic (tutor/records.py at 9b060b6)."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    records = Records(f"sqlite:///{path}")
    rows = records.attempts("fractions", "ann")
    assert [(r.item_id, r.answer, r.correct, r.grader, r.review, r.params) for r in rows] == [
        ("meaning-a1", "one half", True, "rule", False, {}),
        ("meaning-b1", "7", False, "rule", True, {"n": 3}),
    ]
    questions = records.questions("fractions", "ann")
    assert [q.question_id for q in questions] == [r.question_id for r in rows]
    assert [q.mode for q in questions] == ["learn", "review"]
    assert [d.status for d in records.decisions("fractions", "ann")] == ["practice"]
    log_answer(records, learner_id="ann", course_id="fractions", skill_id="meaning", item_id="meaning-a2",
               correct=True)  # new answers go in beside the old ones
    assert len(records.attempts("fractions", "ann")) == 3
    records.close()
    tables = set(inspect(create_engine(f"sqlite:///{path}")).get_table_names())
    assert {"questions", "attempts", "explanations", "decisions", "usage", "alembic_version"} <= tables
    assert "attempts_v1" not in tables


def test_a_file_that_is_not_a_database_gets_one_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"this is not a database at all, just some text that got here " * 100)
    with pytest.raises(LedgerUnreadable) as err:
        Records(f"sqlite:///{path}")
    assert str(path) in str(err.value) and "Move it aside" in str(err.value)


STARTER = """
import sys, tempfile
from tests.support.together import ready, until
from tutor.checkpoints import open_checkpointer
from tutor.records import Records
from tutor.settings import Settings
checkpoints, urls = sys.argv[1] == "checkpoints", sys.argv[2:]
start = ready()
for trial, url in enumerate(urls):  # imports done, every process opens the same fresh ledger at the same moment
    until(start + trial)
    records = Records(url)
    if checkpoints:  # and the checkpoint tables beside it (PostgreSQL)
        open_checkpointer(Settings(data_dir=tempfile.mkdtemp(), database_url=url), records).close()
    records.close()
    print("started", flush=True)
"""
TRIALS = 5


def _start_eight_at_once(urls: list[str], *, checkpoints: bool = False) -> None:
    """Eight processes, each opening every ledger in `urls` (a fresh one each second) together with the others."""
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, "checkpoints" if checkpoints else "-", *urls], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    start_together(procs)
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err[-500:] for _, err in results]
    assert all(out.split() == ["started"] * len(urls) for out, _ in results)
    for url in urls:
        records = Records(url)
        log_answer(records, learner_id="a", course_id="c", skill_id="s", item_id="i", correct=True)
        assert len(records.attempts("c")) == 1
        records.close()


def test_eight_processes_starting_at_once_on_a_fresh_folder_all_start(tmp_path: Path) -> None:
    _start_eight_at_once([f"sqlite:///{tmp_path / f'fresh{n}' / 'tutor.db'}" for n in range(TRIALS)])


def test_an_unsure_answer_is_evidence_only_after_a_person_reviews_it(tmp_path: Path) -> None:
    from tutor.records import LedgerError

    records = Records(f"sqlite:///{tmp_path / 'tutor.db'}")
    try:
        _issue(records, "q1")
        records.record_attempt(GradedAnswer(question_id="q1", answer="some words", correct=False, grader="offline",
                                            feedback="waiting", created_at=NOW, confidence=0.5,
                                            reasons=("why",), pending_review=True))
        assert records.history("c", "ann") == [] and records.pending_items("c", "ann") == {"i1"}
        assert records.attempts("c") == []  # item analysis and calibration never see the placeholder grade
        assert [a.review_status for a in records.attempts("c", include_pending=True)] == ["pending"]
        [pending] = records.pending_reviews()
        assert (pending.answer, pending.confidence, pending.reasons) == ("some words", 0.5, ("why",))
        assert records.pending_reviews(["other-course"]) == []
        with pytest.raises(LedgerError, match="q-unknown"):
            records.review("q-unknown", correct=True, reviewer="t", at=NOW)
        records.review("q1", correct=True, reviewer="teacher", at=NOW)
        with pytest.raises(LedgerError, match="no answer waiting"):
            records.review("q1", correct=False, reviewer="teacher", at=NOW)  # graded once
        [evidence] = records.history("c", "ann")
        assert evidence.correct and records.pending_items("c", "ann") == set()
        assert [r.answer for r in records.unseen_reviews("c", "ann")] == ["some words"]
        records.mark_review_seen(["q1"])
        assert records.unseen_reviews("c", "ann") == []
        assert [(r.answer, r.correct) for r in records.reviewed_examples("c", "i1")] == [("some words", True)]
    finally:
        records.close()


def test_eight_processes_starting_at_once_on_an_empty_postgresql_database_all_start(postgres_server_url: str) -> None:
    from tests.support.postgres import fresh_database

    _start_eight_at_once([fresh_database(postgres_server_url) for _ in range(TRIALS)], checkpoints=True)


def test_a_dropped_postgresql_connection_fails_one_call_loudly_and_the_next_reconnects(postgres_url: str) -> None:
    """Connections are not pinged before use: when the server drops them (a restart, an idle timeout), the call
    that meets a dead connection raises (never swallowed), and the pool renews its connections for the next."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    records = Records(postgres_url)
    _issue(records, "q1")
    assert records.open_question("ann", "c") is not None
    killer = create_engine(postgres_url)
    with killer.connect() as connection:  # what a server restart does to this process's pooled connections
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    killer.dispose()
    with pytest.raises(DBAPIError) as failed:
        records.open_question("ann", "c")
    assert failed.value.connection_invalidated
    question = records.open_question("ann", "c")
    assert question is not None and question.question_id == "q1"
    records.close()
