"""The app shows the same one clear line as the CLI when it cannot start: a bad setting, a corrupted learner
database or Chroma folder (the real Tutor is built; no traceback reaches the page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import new_app
from tutor.settings import Settings

GARBAGE = b"this is not a database, it was overwritten\n" * 200


def start_message() -> str:
    at = new_app().run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("The tutor cannot start: ")
    return error.value.removeprefix("The tutor cannot start: ")


def test_a_bad_setting_is_named_on_the_page(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_ANTHROPIC_TIMEOUT", "soon")
    message = start_message()
    assert message.startswith("bad setting TUTOR_ANTHROPIC_TIMEOUT='soon': Input should be a valid number")


def test_a_corrupted_learner_database_is_named_on_the_page(settings: Settings) -> None:
    database = settings.data_dir / "tutor.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    database.write_bytes(GARBAGE)
    message = start_message()
    assert message.startswith(f"the learner records database {database.resolve()} cannot be used")


def test_a_corrupted_chroma_folder_is_named_on_the_page(settings: Settings) -> None:
    chroma: Path = settings.resolved_chroma_path
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(GARBAGE)
    message = start_message()
    assert message.startswith(f"the passage store {chroma} cannot be opened")
