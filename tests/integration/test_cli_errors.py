"""Every CLI door prints one line naming the variable or file and the fix, with exit code 2, for bad settings,
a store that cannot be opened, a corrupted learner database or Chroma folder, and a broken course.

The real `tutor` command runs in a subprocess for the doors `make run` uses (chat, content load); the rest run
in-process through `tutor.cli.main`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINI_COURSE
from tutor.cli import main
from tutor.errors import SetupError, load_settings
from tutor.settings import Settings

TUTOR = Path(sys.executable).parent / "tutor"
GARBAGE = b"this is not a database, it was overwritten\n" * 200


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A private data folder and content folder (holding a copy of the mini course); no `.env` is read."""
    content = tmp_path / "content"
    shutil.copytree(MINI_COURSE, content / "mini-course")
    values = {"TUTOR_DATA_DIR": str(tmp_path / "data"), "TUTOR_CONTENT_DIR": str(content)}
    for name in [k for k in os.environ if k.startswith(("TUTOR_", "ANTHROPIC_"))]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return values


def tutor(env: dict[str, str], *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The real `tutor` command with only these settings in its environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "ANTHROPIC_"))}
    return subprocess.run([str(TUTOR), *argv], env={**clean, **env, **extra}, capture_output=True, text=True,
                          input="", timeout=300, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def in_process(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err
    [line] = err.strip().splitlines()
    return line


# ---------------------------------------------------------------- bad TUTOR_* values


def test_chat_with_a_bad_setting_names_the_variable(env: dict[str, str]) -> None:
    line = one_line(tutor(env, "chat", "--course", "mini", "--learner", "ann", TUTOR_ANTHROPIC_TIMEOUT="soon"))
    assert line.startswith("tutor: bad setting TUTOR_ANTHROPIC_TIMEOUT='soon': Input should be a valid number")
    assert "(seconds per request)" in line and "Fix or unset it" in line


@pytest.mark.parametrize(
    ("argv", "variable", "value"),
    [
        (["content", "load"], "TUTOR_MAX_REMEDIATIONS", "0"),
        (["content", "validate"], "TUTOR_EMBEDDING_FAST", "maybe"),
        (["content", "list"], "TUTOR_SESSION_HOURS", "-1"),
        (["calibrate", "--course", "mini"], "TUTOR_ANTHROPIC_MAX_RETRIES", "many"),
    ],
)
def test_every_command_names_the_bad_variable(
    argv: list[str], variable: str, value: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    line = in_process(capsys, *argv)
    assert line.startswith(f"tutor: bad setting {variable}={value!r}: ")


def test_a_secret_value_is_never_echoed() -> None:
    with pytest.raises(SetupError) as caught:
        load_settings(lambda: Settings(_env_file=None, anthropic_api_key=["sk-ant-very-secret"]))  # type: ignore[arg-type]
    assert "TUTOR_ANTHROPIC_API_KEY: Input should be a valid string" in str(caught.value)
    assert "very-secret" not in str(caught.value)


# ---------------------------------------------------------------- stores, databases, courses


def test_chat_with_a_bad_chroma_url_prints_the_store_message(env: dict[str, str]) -> None:
    line = one_line(tutor(env, "chat", "--course", "mini", "--learner", "ann", TUTOR_CHROMA_URL="ftp://nowhere"))
    assert line == ("tutor chat: TUTOR_CHROMA_URL 'ftp://nowhere' is not an http(s) URL; use e.g. "
                    "http://localhost:8000")


def test_a_corrupted_learner_database_names_the_file(env: dict[str, str]) -> None:
    database = Path(env["TUTOR_DATA_DIR"]) / "tutor.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(GARBAGE)
    line = one_line(tutor(env, "chat", "--course", "mini", "--learner", "ann"))
    assert line.startswith(f"tutor chat: the learner records database {database.resolve()} cannot be used")
    assert "file is not a database" in line and "move it aside" in line


def test_a_corrupted_chroma_folder_names_the_folder(env: dict[str, str]) -> None:
    chroma = Path(env["TUTOR_DATA_DIR"]) / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(GARBAGE)
    for argv in (["content", "load"], ["chat", "--course", "mini", "--learner", "ann"]):
        line = one_line(tutor(env, *argv))
        assert line.startswith(f"tutor {argv[0]}: the passage store {chroma} cannot be opened")
        assert "`tutor content load` to rebuild it" in line


def test_a_broken_course_stops_chat_with_the_validate_command(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (Path(env["TUTOR_CONTENT_DIR"]) / "mini-course" / "items" / "words.yaml").unlink()
    line = in_process(capsys, "chat", "--course", "mini", "--learner", "ann")
    assert line.startswith("tutor chat: a course cannot be loaded: ")
    assert "mini-course/course.yaml" in line and "run `tutor content validate`" in line


def test_an_unreachable_database_server_names_the_url_without_its_password(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.1 where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TUTOR_DATABASE_URL", f"postgresql+psycopg://tutor:hunter2@127.0.0.1:{port}/tutor")
    line = in_process(capsys, "calibrate", "--course", "mini-course")
    assert line.startswith(f"tutor calibrate: the learner records database postgresql+psycopg://tutor:***@127.0.0.1:{port}")
    assert "hunter2" not in line and "TUTOR_DATABASE_URL" in line
