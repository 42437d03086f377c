"""The ledger's tables (SQLAlchemy). Alembic revisions in `migrations/` create and change them; other modules
that need tables declare them on this `Base` and add a revision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class QuestionRow(Base):
    """A question put to a learner: issued (written) before it is shown."""

    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100), index=True)
    skill_id: Mapped[str] = mapped_column(String(100))
    item_id: Mapped[str] = mapped_column(String(100), index=True)
    form: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(20))  # learn | review | step_back
    return_to: Mapped[str | None] = mapped_column(String(100), nullable=True)  # step_back: the skill it serves
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AttemptRow(Base):
    """A graded answer: at most one per question, written with its grade before feedback is shown."""

    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.question_id"), unique=True)
    learner_id: Mapped[str] = mapped_column(String(100), index=True)
    course_id: Mapped[str] = mapped_column(String(100), index=True)
    skill_id: Mapped[str] = mapped_column(String(100))
    item_id: Mapped[str] = mapped_column(String(100), index=True)
    form: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answer: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    grader: Mapped[str] = mapped_column(String(20))  # rule | offline | llm | person
    misconception: Mapped[str | None] = mapped_column(String(100), nullable=True)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str] = mapped_column(Text, default="")  # what the learner was told (returned on a replay)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # free text (revision 0003): the grader's probability that the answer is correct, its reasons, and a review
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    grader_reasons: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    review_status: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)  # pending | reviewed
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_seen: Mapped[bool] = mapped_column(Boolean, default=False)  # the learner has seen the reviewed result


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
    evidence: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # question ids the gate read
    criterion: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the rule in force
    course_version: Mapped[str | None] = mapped_column(String(40), nullable=True)  # tutor.course.version


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
