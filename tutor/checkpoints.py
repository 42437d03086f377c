"""The LangGraph checkpointer: SQLite beside the data folder, or PostgreSQL with the ledger.

The checkpoint holds only the conversation (it can be rebuilt from the ledger), so a checkpoint file that is not a
readable SQLite database is moved aside (logged) and a fresh one started; sessions are then rebuilt on resume.
Table setup runs under the same kind of lock as the ledger's migrations, so several processes may start at once.

Within one turn (`Checkpoints.turn`, held under the learner's turn lock) the checkpoint read that settles the session
is handed to the graph run that follows, instead of being read again: nothing else writes that thread meanwhile,
and any write to the thread drops what is held.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    copy_checkpoint,
)
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import make_url

from tutor.records import Records
from tutor.settings import Settings

log = logging.getLogger(__name__)

_PG_SETUP_LOCK = 0x636B7074  # "ckpt"
SQLITE_TIMEOUT_S = 60.0


class _HandOff:
    """A saver mixin: while a conversation thread's turn is open, its latest checkpoint, once read by the turn,
    is handed to the turn's next read of it (once) instead of being read again. A write to the conversation (put,
    put_writes, delete) drops it.

    Only the turn's own OS thread (the one that opened it, which runs the graph loop) reads through the hand-off;
    a page read from another thread meanwhile goes to the database and is never handed on. What is held is a copy
    taken when it was read, so a reader that changes the tuple it got (LangGraph applies writes to a checkpoint in
    place) does not change what the next reader gets."""

    _turns: dict[str, int]
    _held: dict[str, CheckpointTuple | None]
    _turns_guard: threading.Lock

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns, self._held, self._turns_guard = {}, {}, threading.Lock()

    @contextmanager
    def turn(self, thread_id: str) -> Iterator[None]:
        with self._turns_guard:
            self._turns[thread_id] = threading.get_ident()
        try:
            yield
        finally:
            with self._turns_guard:
                self._turns.pop(thread_id, None)
                self._held.pop(thread_id, None)

    def _in_turn(self, thread_id: str) -> bool:
        return self._turns.get(thread_id) == threading.get_ident()

    def _drop(self, thread_id: str) -> None:
        with self._turns_guard:
            self._held.pop(thread_id, None)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread = str(conf["thread_id"])
        latest = not conf.get("checkpoint_id") and not conf.get("checkpoint_ns")
        with self._turns_guard:
            holding = latest and self._in_turn(thread)
            if holding and thread in self._held:
                return self._held.pop(thread)
        saved: CheckpointTuple | None = super().get_tuple(config)  # type: ignore[misc]
        if holding:
            with self._turns_guard:
                if self._in_turn(thread):
                    self._held[thread] = _copy(saved)
        return saved

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        self._drop(str(config["configurable"]["thread_id"]))
        return super().put(config, checkpoint, metadata, new_versions)  # type: ignore[misc,no-any-return]

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        self._drop(str(config["configurable"]["thread_id"]))
        super().put_writes(config, writes, task_id, task_path)  # type: ignore[misc]

    def delete_thread(self, thread_id: str) -> None:
        self._drop(thread_id)
        super().delete_thread(thread_id)  # type: ignore[misc]


def _copy(saved: CheckpointTuple | None) -> CheckpointTuple | None:
    if saved is None:
        return None
    return saved._replace(checkpoint=copy_checkpoint(saved.checkpoint), metadata=saved.metadata.copy(),
                          pending_writes=list(saved.pending_writes) if saved.pending_writes is not None else None)


class _SqliteSaver(_HandOff, SqliteSaver):
    pass


@dataclass
class Checkpoints:
    saver: BaseCheckpointSaver[Any]
    close: Callable[[], None]
    turn: Callable[[str], AbstractContextManager[None]]
    """Hold a thread's turn: its checkpoint is read once and handed to the graph run (see _HandOff)."""


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
        saver = _SqliteSaver(conn)
        saver.setup()
    return Checkpoints(saver, conn.close, saver.turn)


def _postgres(url: str) -> Checkpoints:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool: ConnectionPool[Any] = ConnectionPool(
        conninfo, min_size=1, max_size=20, open=True,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    class _PostgresSaver(_HandOff, PostgresSaver):
        pass

    saver = _PostgresSaver(pool)
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
    return Checkpoints(saver, pool.close, saver.turn)
