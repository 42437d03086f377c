"""Fixtures shared by every test tier. Keep this small: put tier-specific fixtures in that tier's conftest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MINI_COURSE = FIXTURES / "mini-course"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first, so that on two workers (make test) the short ones fill in at the end rather
    than one worker finishing a long test alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def mini_course() -> Path:
    """The small valid course under tests/fixtures (read-only: copy it before changing anything)."""
    return MINI_COURSE


@pytest.fixture
def mini_course_copy(tmp_path: Path) -> Path:
    """A private copy of the mini course, named `mini-course`, that a test may break."""
    return Path(shutil.copytree(MINI_COURSE, tmp_path / "mini-course"))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole test session (127.0.0.1, free port, temporary folder)."""
    from tests.support.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """An empty database of its own on the session's PostgreSQL server (SQLAlchemy URL)."""
    from tests.support.postgres import fresh_database

    return fresh_database(postgres_server_url)
