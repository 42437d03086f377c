"""The passage store against a real Chroma server (`chroma run` on 127.0.0.1), as teams sharing one would use it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.retrieval import MiniLMEmbeddingFunction, StoreError, ingest_paths, open_store
from tutor.settings import Settings

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip("the chroma command is not installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"chroma server did not start: {(folder / 'server.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_the_store_works_the_same_through_a_chroma_server(tmp_path: Path, chroma_url: str) -> None:
    embedding = MiniLMEmbeddingFunction()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", chroma_url=chroma_url)
    store = open_store(settings, embedding)
    notes = tmp_path / "notes.md"
    notes.write_text("# Parts\n\n## Halves\nA half is one of two equal parts.\n\n## Thirds\nThree equal parts.\n")
    assert ingest_paths(store, [notes], course="c1", skills=["meaning"]).added == 2
    assert ingest_paths(store, [notes], course="c1", skills=["meaning"]).added == 0
    top = open_store(settings, embedding).search("what is one half", course="c1", k=1)
    assert [p.heading for p in top] == ["Halves"]
    assert not (tmp_path / "data" / "chroma").exists()  # nothing was written to the embedded store


def test_an_unreachable_server_gives_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        open_store(settings, MiniLMEmbeddingFunction())
