"""Fixtures shared by every test tier. Keep this small: put tier-specific fixtures in that tier's conftest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MINI_COURSE = FIXTURES / "mini-course"


@pytest.fixture
def mini_course() -> Path:
    """The small valid course under tests/fixtures (read-only: copy it before changing anything)."""
    return MINI_COURSE


@pytest.fixture
def mini_course_copy(tmp_path: Path) -> Path:
    """A private copy of the mini course, named `mini-course`, that a test may break."""
    return Path(shutil.copytree(MINI_COURSE, tmp_path / "mini-course"))
