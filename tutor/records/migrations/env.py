"""Alembic environment: migrations run on the connection `tutor.records.migrate` hands over (inside its lock)."""

from __future__ import annotations

from alembic import context

from tutor.records.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the ledger migrations through tutor.records.migrate.upgrade(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
