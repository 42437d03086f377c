"""Durable learner records (SQLAlchemy): attempts, explanations shown, gate decisions, LLM usage.

This log, not the conversation checkpoint, is what calibration, item analysis and evals read. Every write is
its own transaction and carries a unique key, so a node that re-runs after a crash writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class AttemptRow(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100), index=True)
    skill_id: Mapped[str] = mapped_column(String(100))
    item_id: Mapped[str] = mapped_column(String(100), index=True)
    form: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answer: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    misconception: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ExplanationRow(Base):
    __tablename__ = "explanations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100))
    skill_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))  # explain | remediate | answer
    style: Mapped[str] = mapped_column(String(40))
    passages: Mapped[list[str]] = mapped_column(JSON, default=list)
    provider: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DecisionRow(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100))
    skill_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(40))
    p_known: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    misconceptions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UsageRow(Base):
    __tablename__ = "usage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    fallback_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class ItemStats:
    """Item analysis from the attempt log."""

    item_id: str
    skill_id: str
    attempts: int
    share_correct: float
    discrimination: float | None  # point-biserial correlation with the learner's accuracy on the other items
    flag: str | None


class Records:
    """The learner-records repository. One instance per database URL."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _add(self, row: Base) -> bool:
        """Insert a row in its own transaction; False when its key was already written (a re-run)."""
        try:
            with self._session() as session:
                session.add(row)
            return True
        except IntegrityError:
            return False

    def add_attempt(self, **fields: Any) -> bool:
        return self._add(AttemptRow(**fields))

    def add_explanation(self, **fields: Any) -> bool:
        return self._add(ExplanationRow(**fields))

    def add_decision(self, **fields: Any) -> bool:
        return self._add(DecisionRow(**fields))

    def add_usage(self, **fields: Any) -> bool:
        return self._add(UsageRow(**fields))

    def attempts(self, course_id: str, learner_id: str | None = None) -> list[AttemptRow]:
        """Attempts in the order they were made, for one course (and optionally one learner)."""
        query = select(AttemptRow).where(AttemptRow.course_id == course_id)
        if learner_id is not None:
            query = query.where(AttemptRow.learner_id == learner_id)
        with self._session() as session:
            return list(session.scalars(query.order_by(AttemptRow.id)))

    def explanations(self, course_id: str, learner_id: str) -> list[ExplanationRow]:
        query = select(ExplanationRow).where(
            ExplanationRow.course_id == course_id, ExplanationRow.learner_id == learner_id
        )
        with self._session() as session:
            return list(session.scalars(query.order_by(ExplanationRow.id)))

    def decisions(self, course_id: str, learner_id: str) -> list[DecisionRow]:
        query = select(DecisionRow).where(DecisionRow.course_id == course_id, DecisionRow.learner_id == learner_id)
        with self._session() as session:
            return list(session.scalars(query.order_by(DecisionRow.id)))

    def usage(self, course_id: str | None = None) -> list[UsageRow]:
        query = select(UsageRow)
        if course_id is not None:
            query = query.where(UsageRow.course_id == course_id)
        with self._session() as session:
            return list(session.scalars(query.order_by(UsageRow.id)))

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def item_analysis(rows: list[AttemptRow]) -> list[ItemStats]:
    """Per item: attempts, share correct and discrimination; flags items that look broken."""
    by_learner: dict[str, list[AttemptRow]] = {}
    for row in rows:
        by_learner.setdefault(row.learner_id, []).append(row)
    by_item: dict[str, list[AttemptRow]] = {}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    stats: list[ItemStats] = []
    for item_id, item_rows in sorted(by_item.items()):
        scores: list[float] = []
        others: list[float] = []
        for row in item_rows:
            rest = [r.correct for r in by_learner[row.learner_id] if r.item_id != item_id]
            if rest:
                scores.append(float(row.correct))
                others.append(sum(rest) / len(rest))
        share = sum(r.correct for r in item_rows) / len(item_rows)
        disc = _correlation(scores, others)
        flag = None
        if len(item_rows) >= 5 and share < 0.15:
            flag = "almost everyone gets this wrong: check the answer key and wording"
        elif disc is not None and disc < 0 and len(scores) >= 5:
            flag = "negative discrimination: strong learners miss it more often than weak ones"
        stats.append(ItemStats(item_id, item_rows[0].skill_id, len(item_rows), share, disc, flag))
    return stats


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return float(cov / (sxx * syy) ** 0.5)
