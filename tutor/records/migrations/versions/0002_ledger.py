"""The ledger: issued questions, and attempts keyed by the question they answer (one per question).

Old attempts are kept: each becomes a question `legacy:<old key>` with its attempt (grader `rule` for objective
items; `unknown` for free-text answers, whose grader was not recorded).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.String(64), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(100), nullable=False, index=True),
        sa.Column("course_id", sa.String(100), nullable=False, index=True),
        sa.Column("skill_id", sa.String(100), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False, index=True),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("return_to", sa.String(100), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("learner_id", "course_id", "item_id"):
        op.drop_index(f"ix_attempts_{column}", table_name="attempts")
    op.rename_table("attempts", "attempts_v1")
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.String(64), sa.ForeignKey("questions.question_id"), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(100), nullable=False, index=True),
        sa.Column("course_id", sa.String(100), nullable=False, index=True),
        sa.Column("skill_id", sa.String(100), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False, index=True),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("grader", sa.String(20), nullable=False),
        sa.Column("misconception", sa.String(100), nullable=True),
        sa.Column("hints_used", sa.Integer, nullable=False),
        sa.Column("review", sa.Boolean, nullable=False),
        sa.Column("feedback", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO questions (question_id, learner_id, course_id, skill_id, item_id, form, kind, seed, params, "
        "mode, return_to, issued_at) SELECT 'legacy:' || key, learner_id, course_id, skill_id, item_id, form, kind, "
        "0, params, CASE WHEN review THEN 'review' ELSE 'learn' END, NULL, created_at FROM attempts_v1 ORDER BY id"
    )
    op.execute(
        "INSERT INTO attempts (question_id, learner_id, course_id, skill_id, item_id, form, kind, params, answer, "
        "correct, grader, misconception, hints_used, review, feedback, created_at) SELECT 'legacy:' || key, "
        "learner_id, course_id, skill_id, item_id, form, kind, params, answer, correct, "
        "CASE WHEN kind = 'free_response' THEN 'unknown' ELSE 'rule' END, misconception, hints_used, review, '', "
        "created_at FROM attempts_v1 ORDER BY id"
    )
    op.drop_table("attempts_v1")


def downgrade() -> None:
    raise NotImplementedError("the ledger cannot be turned back into turn-keyed attempts without losing questions")
