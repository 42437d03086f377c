"""Question seeds are unsigned 32-bit CRCs: a 64-bit column (PostgreSQL's INTEGER is signed 32-bit).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite integers are 64-bit already
    op.alter_column("questions", "seed", type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("questions", "seed", type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False)
