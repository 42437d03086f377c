"""End-to-end fixtures: the real app (`streamlit run ui/app.py`) on a free port with a private data folder whose
passage store is loaded from the sample courses, and Debian's Chromium driven by Playwright (no browser download).

Screenshots go to test-output/e2e/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
SHOTS = ROOT / "test-output" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests only when there is no Chromium and no way to install it here."""
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") is None:
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent and apt-get is unavailable, so Debian's chromium "
                                       "cannot be installed here; the end-to-end browser tests need it")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (`make test` does this). "
                    "Never `playwright install`.")
    return CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    log: Path


PASSWORD_SUFFIX = "-e2e-Passw0rd"


def add_account(server: Server, name: str, role: str = "learner") -> str:
    """Add an account to the server's database (password: name + PASSWORD_SUFFIX); its learner records key."""
    from tutor.auth import Accounts, Role

    accounts = Accounts(f"sqlite:///{(server.data_dir / 'tutor.db').resolve()}")
    try:
        found = accounts.find(name) or accounts.add(name, name + PASSWORD_SUFFIX, Role(role))
        return found.learner_key
    finally:
        accounts.close()


def app_env(data_dir: Path) -> dict[str, str]:
    """The app's environment: this one without any tutor settings or API key, plus a private data folder.

    The app runs outside the project folder so that a developer's `.env` is not read either: it is always the
    offline tutor on the embedded stores.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "ANTHROPIC_"))}
    env.update({
        "TUTOR_DATA_DIR": str(data_dir),
        "TUTOR_CONTENT_DIR": str(CONTENT),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    })
    return env


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer on {url} within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


def load_content(base: Path, env: dict[str, str]) -> None:
    """`tutor content load` in `base` with the app's environment (the passage store the app will read)."""
    load = subprocess.run([sys.executable, "-m", "tutor.cli", "content", "load"], cwd=base, env=env,
                          capture_output=True, text=True, timeout=300)
    assert load.returncode == 0, f"content load failed:\n{load.stdout}\n{load.stderr}"


@contextmanager
def running_app(base: Path, env: dict[str, str], data_dir: Path, port: int | None = None) -> Iterator[Server]:
    """`streamlit run ui/app.py` in `base` on 127.0.0.1 (a free port unless given), stopped on exit."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "streamlit.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(url, proc, log)
        yield Server(url, data_dir, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app, offline, with both sample courses loaded into a fresh passage store."""
    base = tmp_path_factory.mktemp("e2e")
    data_dir = base / "data"
    env = app_env(data_dir)
    load_content(base, env)
    with running_app(base, env, data_dir) as app:
        yield app


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, temporary user data dir.
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
