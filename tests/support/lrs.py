"""A real learning record store for tests: Ralph's LRS (PyPI `ralph-malph`, file-system backend) run on
127.0.0.1 from its own virtualenv (`make lrs` builds `.venv-lrs`; Ralph pins FastAPI and uvicorn versions of its
own, so it does not share the tutor's environment). It can be stopped and started again on the same port and
folder, to test a store that goes down and comes back.

Ralph's file-system backend opens its one statements file with `create` by default, so every write after the
first fails (HTTP 500); `ralph runserver` offers no switch for it. The launcher below serves Ralph's own app with
uvicorn after setting that backend's default write mode to `append`; everything else (xAPI validation, id
conflicts, authentication, queries) is Ralph's as shipped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RALPH = ROOT / ".venv-lrs" / "bin" / "ralph"
USERNAME = "tutor"
PASSWORD = "lrs-test-password"  # a throwaway credential for a store that lives only during the test
_LAUNCH = """
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend
FSDataBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RalphLRS:
    """Ralph's LRS in a folder; `url` is its xAPI endpoint."""

    def __init__(self, folder: Path) -> None:
        if not RALPH.exists():
            raise RuntimeError(f"{RALPH} is missing: run `make lrs` (make test does) to install Ralph's LRS")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self._proc: subprocess.Popen[bytes] | None = None
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RALPH_")},
            "RALPH_AUTH_FILE": str(folder / "auth.json"),
            "RALPH_APP_DIR": str(folder / "app"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "data"),
        }
        (folder / "data").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(RALPH), "auth", "-u", USERNAME, "-p", PASSWORD, "-s", "all", "-M", "mailto:tutor@example.org",
             "-w"],
            env=self._env, check=True, capture_output=True, timeout=60,
        )

    def start(self) -> None:
        log = (self.folder / "lrs.log").open("ab")
        self._proc = subprocess.Popen(
            [str(RALPH.parent / "python"), "-c", _LAUNCH, str(self.port)],
            env=self._env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Ralph's LRS exited; see {self.folder / 'lrs.log'}")
            try:
                self.statements()
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise RuntimeError(f"Ralph's LRS did not answer on {self.url}; see {self.folder / 'lrs.log'}")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=20)
            self._proc = None

    def statements(self) -> list[dict[str, object]]:
        """Every statement the store holds (following `more` links)."""
        auth = b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        found: list[dict[str, object]] = []
        path = "/xAPI/statements?limit=500"
        while path:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}",
                headers={"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                page = json.loads(response.read())
            found.extend(page["statements"])
            path = page.get("more") or ""
        return found
