"""The organisation's view: groups (members, instructors, assigned courses), the xAPI outbox, and what every gate
decision rests on (the question ids the gate read, the criterion in force, the course version).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("evidence", sa.JSON, nullable=True))
        batch.add_column(sa.Column("criterion", sa.JSON, nullable=True))
        batch.add_column(sa.Column("course_version", sa.String(40), nullable=True))
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "group_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.String(36), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("account_id", sa.String(100), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.UniqueConstraint("group_id", "account_id", "role"),
    )
    op.create_table(
        "group_courses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.String(36), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("course_id", sa.String(100), nullable=False),
        sa.Column("due", sa.Date, nullable=True),
        sa.UniqueConstraint("group_id", "course_id"),
    )
    op.create_table(
        "xapi_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("statement_id", sa.String(36), nullable=False, unique=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("xapi_outbox")
    op.drop_table("group_courses")
    op.drop_table("group_members")
    op.drop_table("groups")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("course_version")
        batch.drop_column("criterion")
        batch.drop_column("evidence")
