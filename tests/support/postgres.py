"""A real PostgreSQL server for tests: Debian's binaries, a temporary data folder, 127.0.0.1 on a free port.

As root the server runs as `nobody` (PostgreSQL refuses to run as root). `make test` installs Debian's
`postgresql` package when it is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

PG_ROOTS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL binaries folder, if any."""
    return next((p for p in PG_ROOTS if (p / "initdb").exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yields a SQLAlchemy URL (postgresql+psycopg://...) of its `postgres` database."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        shutil.chown(sockets, "nobody")
        root.chmod(0o700)
    port = _free_port()
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "tutor", "--auth=trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_server_user([
        str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=300 -c synchronous_commit=on",
        "start",
    ]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://tutor@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """An empty database on the server; returns its URL."""
    import psycopg

    name = "t" + uuid.uuid4().hex[:12]
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
