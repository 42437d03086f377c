"""The records tables as `create_all` made them before migrations (attempts keyed by a turn-based key).

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _key_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(100), nullable=False, index=True),
        sa.Column("course_id", sa.String(100), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(100), nullable=False, index=True),
        sa.Column("course_id", sa.String(100), nullable=False, index=True),
        sa.Column("skill_id", sa.String(100), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False, index=True),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("misconception", sa.String(100), nullable=True),
        sa.Column("hints_used", sa.Integer, nullable=False),
        sa.Column("review", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "explanations",
        *_key_columns(),
        sa.Column("skill_id", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("style", sa.String(40), nullable=False),
        sa.Column("passages", sa.JSON, nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "decisions",
        *_key_columns(),
        sa.Column("skill_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("p_known", sa.Float, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("misconceptions", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "usage",
        *_key_columns(),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("cache_read_tokens", sa.Integer, nullable=False),
        sa.Column("cache_write_tokens", sa.Integer, nullable=False),
        sa.Column("fallback_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("usage", "decisions", "explanations", "attempts"):
        op.drop_table(table)
