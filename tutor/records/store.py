"""The ledger repository: issued questions, attempts, explanations shown, gate decisions, LLM usage.

This, not the conversation checkpoint, is the durable evidence: the gate, progress and the review schedule
are computed from it, and a lost checkpoint is rebuilt from it. Only the exact replay of an answer to the same
question is a no-op; any other integrity or database error propagates.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from filelock import FileLock
from sqlalchemy import ColumnElement, create_engine, event, func, insert, or_, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutor.records import migrate
from tutor.records.entries import (
    Decision,
    Explanation,
    GradedAnswer,
    IssuedQuestion,
    LearnerAttempts,
    Mode,
    PendingReview,
    RecordedAttempt,
    ReviewedAnswer,
    Usage,
)
from tutor.records.models import AttemptRow, Base, DecisionRow, ExplanationRow, QuestionRow, UsageRow

log = logging.getLogger(__name__)

TURN_LOCK_TIMEOUT_S = 120.0

Outbox = Callable[[Session, AttemptRow | DecisionRow], Sequence[Base]]
"""Rows to write beside a new attempt or decision, in its transaction (the xAPI outbox)."""


class LedgerError(RuntimeError):
    """A ledger write that cannot be done as asked."""


class UnknownQuestion(LedgerError):
    """An answer to a question id that was never issued."""


class AnswerConflict(LedgerError):
    """A different answer to a question that already has one."""


class LedgerUnreadable(LedgerError):
    """The database file is not a database (corrupt, truncated or another kind of file)."""


class Records:
    """The learner-records repository. One instance per database URL; safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, **_engine_options(url))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # reads on PostgreSQL run on connections made in autocommit mode (a pool of their own, so no mode switch
        # or reset per use): one round trip per query, no BEGIN/COMMIT
        self._autocommit = (create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                                          **_engine_options(url))
                            if self.engine.dialect.name == "postgresql" else self.engine)
        self._readers = sessionmaker(self._autocommit, expire_on_commit=False)
        self._local_locks: dict[str, threading.Lock] = {}
        self._outbox: Outbox | None = None
        self._guard = threading.Lock()
        try:
            migrate.upgrade(self.engine)
        except DatabaseError as exc:
            self.engine.dispose()
            path = migrate.sqlite_path(self.engine)
            if path is not None and "not a database" in str(exc.orig):
                raise LedgerUnreadable(
                    f"{path} is not a readable database ({exc.orig}). Move it aside and restart to begin a new, "
                    "empty ledger, or put back a backup of it."
                ) from exc
            raise

    def set_outbox(self, outbox: Outbox | None) -> None:
        """Write what `outbox` makes of each attempt and decision (xAPI statements) in the same transaction."""
        self._outbox = outbox

    def _to_outbox(self, session: Session, row: AttemptRow | DecisionRow) -> None:
        if self._outbox is not None:
            session.add_all(self._outbox(session, row))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Session]:
        """A session for reads only (nothing it adds is written)."""
        with self._readers() as session:
            yield session

    # ------------------------------------------------------------------ writes

    def _write_row(self, row: Base) -> None:
        """Write one new row. An attempt or decision goes with its outbox rows in one transaction when there is an
        outbox (xAPI); otherwise a row is one INSERT, a transaction of its own: one round trip on PostgreSQL."""
        if self._outbox is not None and isinstance(row, AttemptRow | DecisionRow):
            with self._session() as session:
                session.add(row)
                session.flush()
                self._to_outbox(session, row)
            return
        values = {c.key: getattr(row, c.key) for c in type(row).__table__.columns if getattr(row, c.key) is not None}
        with self._statement() as connection:
            connection.execute(insert(type(row)), values)

    @contextlib.contextmanager
    def _statement(self) -> Iterator[Connection]:
        """A connection whose statements each commit on their own (PostgreSQL: autocommit, no BEGIN/COMMIT round
        trips; SQLite: a transaction committed when the block ends)."""
        if self.backend == "postgresql":
            with self._autocommit.connect() as connection:
                yield connection
        else:
            with self.engine.begin() as connection:
                yield connection

    def issue_question(self, question: IssuedQuestion) -> None:
        """Write a question before it is shown. Issuing the same question id twice is an error."""
        self._write_row(QuestionRow(
            question_id=question.question_id, learner_id=question.learner_id, course_id=question.course_id,
            skill_id=question.skill_id, item_id=question.item_id, form=question.form, kind=question.kind,
            seed=question.seed, params=question.params, mode=question.mode, return_to=question.return_to,
            issued_at=question.issued_at,
        ))

    def record_attempt(self, graded: GradedAnswer) -> RecordedAttempt:
        """Write the graded answer to its question in one transaction; returns the row now in the ledger.

        The exact replay of the recorded answer returns the recorded row (its original grade and feedback);
        a different answer to an answered question raises AnswerConflict. (A question row is never changed
        once issued, so it is read before the write, not inside its transaction.)
        """
        question = self.question(graded.question_id)
        if question is None:
            raise UnknownQuestion(f"no question {graded.question_id!r} was issued")
        row = AttemptRow(
            question_id=graded.question_id, learner_id=question.learner_id, course_id=question.course_id,
            skill_id=question.skill_id, item_id=question.item_id, form=question.form, kind=question.kind,
            params=question.params, answer=graded.answer, correct=graded.correct, grader=graded.grader,
            misconception=graded.misconception, hints_used=graded.hints_used,
            review=question.mode != "learn", feedback=graded.feedback, created_at=graded.created_at,
            confidence=graded.confidence, grader_reasons=list(graded.reasons) or None,
            review_status="pending" if graded.pending_review else None, review_seen=False,
        )
        try:
            self._write_row(row)
        except IntegrityError:
            pair = self._attempt_and_question(graded.question_id)
            if pair is not None and pair[0].answer == graded.answer:
                return recorded_attempt(*pair)  # the same answer again (a retry): nothing new to write
            log.error("attempt on %s conflicts with the recorded one", graded.question_id)
            raise AnswerConflict(f"question {graded.question_id!r} already has a different answer") from None
        return recorded_attempt(row, question)

    def add_decision(self, decision: Decision) -> None:
        """The gate's decision after an attempt; writing the same decision for the same attempt is a no-op."""
        key = f"{decision.question_id}:{decision.kind}"
        try:
            self._write_row(DecisionRow(
                key=key, learner_id=decision.learner_id, course_id=decision.course_id,
                skill_id=decision.skill_id, status=decision.status, p_known=decision.p_known,
                reasons=decision.reasons, misconceptions=decision.misconceptions, created_at=decision.created_at,
                evidence=decision.evidence, criterion=decision.criterion,
                course_version=decision.course_version or None,
            ))
        except IntegrityError:
            with self._reading() as session:
                existing = session.scalar(select(DecisionRow).where(DecisionRow.key == key))
            if existing is None or (existing.skill_id, existing.status) != (decision.skill_id, decision.status):
                raise
            # the node re-ran after a crash and reached the same decision on the same attempts

    def add_explanation(self, shown: Explanation) -> None:
        self._write_row(ExplanationRow(
            key=uuid.uuid4().hex, learner_id=shown.learner_id, course_id=shown.course_id,
            skill_id=shown.skill_id, purpose=shown.purpose, style=shown.style, passages=shown.passages,
            provider=shown.provider, created_at=shown.created_at,
        ))

    def add_usage(self, usage: Usage) -> None:
        self._write_row(UsageRow(
            key=uuid.uuid4().hex, learner_id=usage.learner_id, course_id=usage.course_id,
            purpose=usage.purpose, provider=usage.provider, model=usage.model,
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens, cache_write_tokens=usage.cache_write_tokens,
            fallback_reason=usage.fallback_reason, created_at=usage.created_at,
        ))

    # ------------------------------------------------------------------ reads

    def question(self, question_id: str) -> QuestionRow | None:
        with self._reading() as session:
            return session.scalar(select(QuestionRow).where(QuestionRow.question_id == question_id))

    def attempt_for(self, question_id: str) -> AttemptRow | None:
        with self._reading() as session:
            return session.scalar(select(AttemptRow).where(AttemptRow.question_id == question_id))

    def _attempt_and_question(self, question_id: str) -> tuple[AttemptRow, QuestionRow] | None:
        query = (select(AttemptRow, QuestionRow).join(QuestionRow, QuestionRow.question_id == AttemptRow.question_id)
                 .where(AttemptRow.question_id == question_id))
        with self._reading() as session:
            found = session.execute(query).first()
            return None if found is None else (found[0], found[1])

    def recorded(self, question_id: str) -> RecordedAttempt | None:
        """The attempt on a question, if it has one."""
        pair = self._attempt_and_question(question_id)
        return None if pair is None else recorded_attempt(*pair)

    def history(self, course_id: str, learner_id: str) -> list[RecordedAttempt]:
        """A learner's attempts in a course that are evidence, oldest first, with the mode of the question each
        answered. Free-text answers waiting for a person's review are not evidence yet and are left out."""
        return self.learner_attempts(course_id, learner_id).history

    def learner_attempts(self, course_id: str, learner_id: str) -> LearnerAttempts:
        """A learner's answers in a course as a turn needs them: the evidence, the items waiting for review and
        the reviews not yet shown, from one query."""
        query = (
            select(AttemptRow, QuestionRow)
            .join(QuestionRow, QuestionRow.question_id == AttemptRow.question_id)
            .where(AttemptRow.course_id == course_id, AttemptRow.learner_id == learner_id)
            .order_by(AttemptRow.id)
        )
        with self._reading() as session:
            rows = [(a, q) for a, q in session.execute(query).all()]
        return LearnerAttempts(
            history=[recorded_attempt(a, q) for a, q in rows if a.review_status != "pending"],
            pending_items={a.item_id for a, _ in rows if a.review_status == "pending"},
            unseen_reviews=[ReviewedAnswer(a.question_id, a.skill_id, a.item_id, a.answer, a.correct)
                            for a, _ in rows if a.review_status == "reviewed" and not a.review_seen],
        )

    # ------------------------------------------------------------------ free-text review

    def pending_reviews(self, course_ids: list[str] | None = None) -> list[PendingReview]:
        """Unsure free-text answers waiting for a person, oldest first (all courses, or those given)."""
        query = select(AttemptRow).where(AttemptRow.review_status == "pending")
        if course_ids is not None:
            query = query.where(AttemptRow.course_id.in_(course_ids))
        with self._reading() as session:
            rows = list(session.scalars(query.order_by(AttemptRow.id)))
        return [PendingReview(question_id=r.question_id, learner_id=r.learner_id, course_id=r.course_id,
                              skill_id=r.skill_id, item_id=r.item_id, answer=r.answer, confidence=r.confidence,
                              reasons=tuple(r.grader_reasons or ()), created_at=_aware(r.created_at)) for r in rows]

    def review(self, question_id: str, *, correct: bool, reviewer: str, at: datetime) -> None:
        """A person's grade of a pending answer: it becomes evidence, graded by a person. Reviewing an answer
        that is not pending (already reviewed, or never unsure) is an error."""
        with self._session() as session:
            row = session.scalar(select(AttemptRow).where(AttemptRow.question_id == question_id))
            if row is None or row.review_status != "pending":
                raise LedgerError(f"question {question_id!r} has no answer waiting for review")
            row.correct, row.grader, row.review_status = correct, "person", "reviewed"
            row.reviewed_by, row.reviewed_at, row.review_seen = reviewer, at, False
            self._to_outbox(session, row)

    def unseen_reviews(self, course_id: str, learner_id: str) -> list[ReviewedAnswer]:
        """Reviewed answers whose result the learner has not been shown yet."""
        return self.learner_attempts(course_id, learner_id).unseen_reviews

    def mark_review_seen(self, question_ids: list[str]) -> None:
        with self._session() as session:
            for row in session.scalars(select(AttemptRow).where(AttemptRow.question_id.in_(question_ids))):
                row.review_seen = True

    def reviewed_examples(self, course_id: str, item_id: str) -> list[ReviewedAnswer]:
        """Answers to an item that people graded: labelled examples the free-text grader learns from."""
        query = select(AttemptRow).where(AttemptRow.course_id == course_id, AttemptRow.item_id == item_id,
                                         AttemptRow.review_status == "reviewed")
        with self._reading() as session:
            rows = list(session.scalars(query.order_by(AttemptRow.id)))
        return [ReviewedAnswer(r.question_id, r.skill_id, r.item_id, r.answer, r.correct) for r in rows]

    def pending_items(self, course_id: str, learner_id: str) -> set[str]:
        """Items of a learner whose answer waits for review (not asked again meanwhile)."""
        return self.learner_attempts(course_id, learner_id).pending_items

    def open_question(self, learner_id: str, course_id: str) -> QuestionRow | None:
        """The learner's latest issued question in the course, when it has no answer yet."""
        query = (
            select(QuestionRow, AttemptRow.id)
            .outerjoin(AttemptRow, AttemptRow.question_id == QuestionRow.question_id)
            .where(QuestionRow.learner_id == learner_id, QuestionRow.course_id == course_id)
            .order_by(QuestionRow.id.desc())
            .limit(1)
        )
        with self._reading() as session:  # one query: the latest question and whether it has an answer
            latest = session.execute(query).first()
        return latest[0] if latest is not None and latest[1] is None else None

    def questions(self, course_id: str | None = None, learner_id: str | None = None) -> list[QuestionRow]:
        query = select(QuestionRow)
        if course_id is not None:
            query = query.where(QuestionRow.course_id == course_id)
        if learner_id is not None:
            query = query.where(QuestionRow.learner_id == learner_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(QuestionRow.id)))

    def attempts(self, course_id: str | None, learner_id: str | None = None, *,
                 include_pending: bool = False) -> list[AttemptRow]:
        """Attempts in the order they were made, for one course (or all) and optionally one learner. Free-text
        answers waiting for review (their `correct` is only a placeholder) only with `include_pending`."""
        query = select(AttemptRow)
        if not include_pending:
            query = query.where(_graded())
        if course_id is not None:
            query = query.where(AttemptRow.course_id == course_id)
        if learner_id is not None:
            query = query.where(AttemptRow.learner_id == learner_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(AttemptRow.id)))

    def attempts_with_questions(self, course_id: str, learner_id: str) -> list[tuple[AttemptRow, QuestionRow]]:
        """A learner's attempts in a course with the questions they answer (mode, step-back target); answers
        waiting for review are not included (they are not evidence yet)."""
        query = (
            select(AttemptRow, QuestionRow)
            .join(QuestionRow, QuestionRow.question_id == AttemptRow.question_id)
            .where(AttemptRow.course_id == course_id, AttemptRow.learner_id == learner_id, _graded())
            .order_by(AttemptRow.id)
        )
        with self._reading() as session:
            return [(a, q) for a, q in session.execute(query).all()]

    def explanations(self, course_id: str | None, learner_id: str | None = None) -> list[ExplanationRow]:
        query = select(ExplanationRow)
        if course_id is not None:
            query = query.where(ExplanationRow.course_id == course_id)
        if learner_id is not None:
            query = query.where(ExplanationRow.learner_id == learner_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(ExplanationRow.id)))

    def decisions(self, course_id: str | None, learner_id: str | None = None) -> list[DecisionRow]:
        query = select(DecisionRow)
        if course_id is not None:
            query = query.where(DecisionRow.course_id == course_id)
        if learner_id is not None:
            query = query.where(DecisionRow.learner_id == learner_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(DecisionRow.id)))

    def usage(self, course_id: str | None = None) -> list[UsageRow]:
        query = select(UsageRow)
        if course_id is not None:
            query = query.where(UsageRow.course_id == course_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(UsageRow.id)))

    def tokens_spent(self, learner_id: str, since: datetime) -> int:
        """Language-model tokens (input, output, cache reads and writes) the learner has used since `since`."""
        used = (UsageRow.input_tokens + UsageRow.output_tokens + UsageRow.cache_read_tokens
                + UsageRow.cache_write_tokens)
        query = select(func.coalesce(func.sum(used), 0)).where(
            UsageRow.learner_id == learner_id, UsageRow.created_at >= since.astimezone(UTC).replace(tzinfo=None)
        )
        with self._reading() as session:
            return int(session.scalar(query) or 0)

    # ------------------------------------------------------------------ one turn at a time

    @contextlib.contextmanager
    def turn_lock(self, learner_id: str, course_id: str) -> Iterator[None]:
        """Hold the learner's turn in this course across threads and processes (file lock beside a SQLite
        ledger; a PostgreSQL session advisory lock otherwise)."""
        key = f"{learner_id}\x1f{course_id}"
        with self._guard:
            local = self._local_locks.setdefault(key, threading.Lock())
        with local:
            if self.backend == "postgresql":
                with self._autocommit.connect() as connection:
                    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
                    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": digest})
                    try:
                        yield
                    finally:
                        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": digest})
                return
            path = migrate.sqlite_path(self.engine)
            if path is None:
                yield
                return
            locks = path.parent / (path.name + ".turns")
            locks.mkdir(exist_ok=True)
            name = hashlib.sha256(key.encode()).hexdigest()[:32]
            with FileLock(str(locks / f"{name}.lock"), timeout=TURN_LOCK_TIMEOUT_S):
                yield

    def close(self) -> None:
        self.engine.dispose()
        self._autocommit.dispose()


def _graded() -> ColumnElement[bool]:
    """Attempts that are evidence: not waiting for a person's review."""
    return or_(AttemptRow.review_status.is_(None), AttemptRow.review_status != "pending")


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive times: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def recorded_attempt(attempt: AttemptRow, question: QuestionRow) -> RecordedAttempt:
    """An attempt as the gate and the reports read it, with the mode and step-back target of its question."""
    return RecordedAttempt(
        question_id=attempt.question_id, skill_id=attempt.skill_id, item_id=attempt.item_id, form=attempt.form,
        kind=attempt.kind, answer=attempt.answer, correct=attempt.correct, misconception=attempt.misconception,
        feedback=attempt.feedback, mode=cast(Mode, question.mode), return_to=question.return_to,
        created_at=_aware(attempt.created_at), learner_id=attempt.learner_id, course_id=attempt.course_id,
        pending_review=attempt.review_status == "pending",
    )


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("postgresql"):
        # No ping before each use (it was a third of a turn's round trips): a connection the server dropped
        # fails its statement, which is surfaced (that turn's transaction is not committed) and makes the pool
        # discard every connection made before, so the next turn reconnects. Connections are renewed after 30
        # minutes, before idle timeouts between here and the server can drop them.
        return {"pool_size": 10, "max_overflow": 40, "pool_pre_ping": False, "pool_recycle": 1800}
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["AnswerConflict", "Base", "LedgerError", "LedgerUnreadable", "Records", "UnknownQuestion"]
