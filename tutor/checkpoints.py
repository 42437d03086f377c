"""The LangGraph checkpointer: SQLite beside the data folder, or PostgreSQL with the ledger.

The checkpoint holds only the conversation (it can be rebuilt from the ledger), so a checkpoint file that is not a
readable SQLite database is moved aside (logged) and a fresh one started; sessions are then rebuilt on resume.
Table setup runs under the same kind of lock as the ledger's migrations, so several processes may start at once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import make_url

from tutor.records import Records
from tutor.settings import Settings

log = logging.getLogger(__name__)

_PG_SETUP_LOCK = 0x636B7074  # "ckpt"
SQLITE_TIMEOUT_S = 60.0


@dataclass
class Checkpoints:
    saver: BaseCheckpointSaver[Any]
    close: Callable[[], None]


def open_checkpointer(settings: Settings, records: Records) -> Checkpoints:
    if records.backend == "postgresql":
        return _postgres(settings.resolved_database_url)
    return _sqlite(settings.checkpoint_path)


def _readable(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_TIMEOUT_S) as conn:
            return bool(conn.execute("PRAGMA quick_check").fetchone() == ("ok",))
    except sqlite3.DatabaseError:
        return False


def _sqlite(path: Path) -> Checkpoints:
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".setup.lock", timeout=SQLITE_TIMEOUT_S):
        if not _readable(path):
            aside = path.with_name(f"{path.name}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            log.warning("checkpoint file %s was not a readable database; moved to %s, sessions are rebuilt from "
                        "the ledger", path, aside)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=SQLITE_TIMEOUT_S)
        saver = SqliteSaver(conn)
        saver.setup()
    return Checkpoints(saver, conn.close)


def _postgres(url: str) -> Checkpoints:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo, min_size=1, max_size=20, open=True,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    saver = PostgresSaver(pool)
    # setup() builds indexes CONCURRENTLY, which waits for every open transaction: so the lock is taken by
    # polling short autocommit statements, never by a statement (or transaction) left waiting
    with pool.connection() as conn:
        deadline = time.monotonic() + SQLITE_TIMEOUT_S
        while not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_PG_SETUP_LOCK,)).fetchone()["ok"]:
            if time.monotonic() > deadline:
                raise TimeoutError("another process has been setting up the checkpoint tables for a minute")
            time.sleep(0.05)
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_SETUP_LOCK,))
    return Checkpoints(saver, pool.close)
