"""Bring a ledger database to the newest schema with Alembic, one process at a time.

Several app processes may start at once on a fresh folder or an empty PostgreSQL database: the upgrade runs
under a lock (a file lock beside the SQLite file; a PostgreSQL transaction-level advisory lock), and whoever comes
second finds the schema at head and does nothing. A database made by `create_all` before migrations existed
(records tables, no `alembic_version`) is stamped as revision 0001 and upgraded from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
_PG_LOCK_KEY = 0x7475746F72  # "tutor": the advisory lock id for schema upgrades
LOCK_TIMEOUT_S = 120.0


def alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for in-memory or another backend)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    path = sqlite_path(engine)
    if path is None:
        yield
        return
    with FileLock(str(path) + ".migrate.lock", timeout=LOCK_TIMEOUT_S):
        yield


def upgrade(engine: Engine) -> None:
    """Apply every pending revision (no-op when the schema is at head)."""
    with _file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        cfg = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "attempts" in tables:
            command.stamp(cfg, BASELINE)  # made by create_all before migrations: that is revision 0001
        command.upgrade(cfg, "head")
