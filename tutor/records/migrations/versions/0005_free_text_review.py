"""Free-text grades: the grader's confidence and reasons, and a person's review of unsure answers.

An attempt whose `review_status` is "pending" was graded unsure: it is not evidence for the gate until a person
grades it ("reviewed"; `grader` becomes "person"). `review_seen` says whether the learner has been shown the
reviewed result.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("confidence", sa.Float, nullable=True))
        batch.add_column(sa.Column("grader_reasons", sa.JSON, nullable=True))
        batch.add_column(sa.Column("review_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_seen", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.create_index("ix_attempts_review_status", ["review_status"])


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_index("ix_attempts_review_status")
        for column in ("review_seen", "reviewed_at", "reviewed_by", "review_status", "grader_reasons", "confidence"):
            batch.drop_column(column)
