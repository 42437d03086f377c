"""A queue for heavy jobs (evals, benchmarks, large ingests) so that they never crowd out learners' turns.

A job is a command (`python -m ...`) run in a subprocess at a lower CPU priority, one at a time by default
(`TUTOR_JOBS_CONCURRENCY`), with at most `TUTOR_JOBS_PER_USER` queued or running per person. Jobs live in the
tutor's database (table `jobs` on the ledger's `Base`, Alembic revision 0006); each has a folder
`<data dir>/jobs/<id>/` with its output log and its results, kept after it ends. Progress is read from the
command's output lines ("37%", "120/500"). Jobs still marked running when a process starts were cut off by a
restart and are marked failed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, create_engine, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from tutor.records import Base, migrate

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
_PERCENT = re.compile(r"(\d{1,3})%")
_FRACTION = re.compile(r"\b(\d+)\s*/\s*(\d+)\b")


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    command: Mapped[list[str]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    title: str
    owner: str
    status: str
    progress: float
    message: str
    exit_code: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    folder: Path

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def log_path(self) -> Path:
        return self.folder / "log.txt"


class JobLimit(RuntimeError):
    """The person already has as many queued or running jobs as allowed."""


def progress_of(line: str) -> float | None:
    """A share done (0-1) read from one output line: the last "NN%" or, failing that, the last "n/total"."""
    percents = _PERCENT.findall(line)
    if percents:
        return min(1.0, int(percents[-1]) / 100)
    fractions = [(int(a), int(b)) for a, b in _FRACTION.findall(line) if int(b) > 0 and int(a) <= int(b)]
    if fractions:
        done, total = fractions[-1]
        return done / total
    return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class JobQueue:
    """The queue of one tutor process: submit, list, cancel; a dispatcher thread starts jobs in order."""

    def __init__(self, url: str, data_dir: Path, *, concurrency: int = 1, per_user: int = 2, niceness: int = 10,
                 cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        migrate.upgrade(self.engine)  # the ledger's schema and its one Alembic history (revision 0006: jobs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.root = data_dir / "jobs"
        self.concurrency = concurrency
        self.per_user = per_user
        self.niceness = niceness
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._logs: dict[str, TextIO] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopped = False
        with self._sessions.begin() as session:
            for row in session.scalars(select(JobRow).where(JobRow.status == RUNNING)):
                row.status, row.message, row.finished_at = FAILED, "interrupted: the tutor restarted", _now()
        self._dispatcher = threading.Thread(target=self._dispatch, name="job-dispatcher", daemon=True)
        self._dispatcher.start()

    def _job(self, row: JobRow) -> Job:
        return Job(row.id, row.kind, row.title, row.owner, row.status, row.progress, row.message, row.exit_code,
                   row.created_at, row.started_at, row.finished_at, self.root / row.id)

    def submit(self, owner: str, kind: str, title: str, command: Sequence[str], publish: Path | None = None) -> Job:
        """Queue a command; its folder is `job.folder` (the command may refer to it as `{folder}`).

        With `publish`, the files the job wrote to its folder are also copied there when it succeeds (e.g. the
        latest eval report the Evaluate page shows); the job's own folder keeps its copy either way.
        """
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        args = [a.replace("{folder}", str(folder)) for a in command]
        with self._lock:
            with self._sessions.begin() as session:
                active = session.scalars(select(JobRow.id).where(JobRow.owner == owner,
                                                                 JobRow.status.in_(ACTIVE))).all()
                if len(active) >= self.per_user:
                    raise JobLimit(f"you already have {len(active)} job(s) queued or running (the limit is "
                                   f"{self.per_user}); wait for one to finish or cancel one")
                row = JobRow(id=job_id, kind=kind, title=title, owner=owner, status=QUEUED, command=args,
                             progress=0.0, message="queued", created_at=_now())
                session.add(row)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "job.json").write_text(json.dumps({"kind": kind, "title": title, "command": args,
                                                         "publish": str(publish) if publish else None}))
            self._wake.notify_all()
        return self._job(row)

    def get(self, job_id: str) -> Job | None:
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            return self._job(row) if row else None

    def jobs(self, owner: str | None = None, limit: int = 50) -> list[Job]:
        """Newest first."""
        query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        with self._sessions.begin() as session:
            return [self._job(r) for r in session.scalars(query)]

    def position(self, job_id: str) -> int | None:
        """1 for the next job to start; None when the job is not waiting."""
        with self._sessions.begin() as session:
            queued = session.scalars(select(JobRow.id).where(JobRow.status == QUEUED)
                                     .order_by(JobRow.created_at, JobRow.id)).all()
        return queued.index(job_id) + 1 if job_id in queued else None

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job (the caller checks who may); False when it had already ended."""
        with self._lock:
            with self._sessions.begin() as session:
                row = session.get(JobRow, job_id)
                if row is None or row.status not in ACTIVE:
                    return False
                if row.status == QUEUED:
                    row.status, row.message, row.finished_at = CANCELLED, "cancelled before it started", _now()
                    return True
                self._cancelled.add(job_id)
            proc = self._procs.get(job_id)
        if proc is not None and proc.poll() is None:
            proc.terminate()
        return True

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job has ended (for scripts and tests); raises TimeoutError."""
        deadline = _now().timestamp() + timeout
        while True:
            job = self.get(job_id)
            if job is None:
                raise KeyError(job_id)
            if not job.active:
                return job
            if _now().timestamp() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout}s")
            threading.Event().wait(0.1)

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
            procs = list(self._procs.values())
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    # the dispatcher

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and (len(self._procs) >= self.concurrency or not self._next_queued()):
                    self._wake.wait(timeout=1.0)
                if self._stopped:
                    return
                row = self._next_queued()
                if row is None:
                    continue
                proc = self._start(row)
                if proc is None:
                    continue
                self._procs[row.id] = proc
            threading.Thread(target=self._follow, args=(row.id, proc), name=f"job-{row.id}", daemon=True).start()

    def _next_queued(self) -> JobRow | None:
        with self._sessions.begin() as session:
            return session.scalars(select(JobRow).where(JobRow.status == QUEUED)
                                   .order_by(JobRow.created_at, JobRow.id)).first()

    def _start(self, row: JobRow) -> subprocess.Popen[str] | None:
        folder = self.root / row.id
        niceness = self.niceness
        try:
            out = (folder / "log.txt").open("w", encoding="utf-8")
            proc = subprocess.Popen(row.command, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace", bufsize=1,
                                    preexec_fn=(lambda: os.nice(niceness)) if niceness else None)  # noqa: PLW1509
        except OSError as exc:
            self._finish(row.id, FAILED, None, f"could not start: {exc}")
            return None
        self._logs[row.id] = out
        with self._sessions.begin() as session:
            live = session.get(JobRow, row.id)
            if live is not None:
                live.status, live.started_at, live.message = RUNNING, _now(), "started"
        return proc

    def _follow(self, job_id: str, proc: subprocess.Popen[str]) -> None:
        out = self._logs.pop(job_id)
        last_write = 0.0
        progress, message = 0.0, ""
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                out.write(line + "\n")
                if not line.strip():
                    continue
                share = progress_of(line)
                progress = share if share is not None else progress
                message = line[-300:]
                now = _now().timestamp()
                if now - last_write > 0.5:  # at most two progress writes a second
                    last_write = now
                    self._update(job_id, progress, message)
            code = proc.wait()
        finally:
            out.close()
        with self._lock:
            self._procs.pop(job_id, None)
            cancelled = job_id in self._cancelled
            self._cancelled.discard(job_id)
            self._wake.notify_all()
        if cancelled:
            self._finish(job_id, CANCELLED, code, "cancelled while running")
        elif code == 0:
            self._publish(self.root / job_id)
            self._finish(job_id, DONE, code, message or "finished", progress=1.0)
        else:
            self._finish(job_id, FAILED, code, message or f"exit code {code}")

    def _publish(self, folder: Path) -> None:
        target = json.loads((folder / "job.json").read_text()).get("publish")
        if not target:
            return
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink() and path.name not in ("job.json", "log.txt"):
                shutil.copy2(path, Path(target) / path.name)

    def _update(self, job_id: str, progress: float, message: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is not None and row.status == RUNNING:
                row.progress, row.message = progress, message

    def _finish(self, job_id: str, status: str, code: int | None, message: str, progress: float | None = None) -> None:
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is not None:
                row.status, row.exit_code, row.message, row.finished_at = status, code, message, _now()
                if progress is not None:
                    row.progress = progress
        log.info("job %s %s (exit code %s)", job_id, status, code)
