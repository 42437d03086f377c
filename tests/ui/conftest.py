"""Fixtures for the Streamlit page tests (AppTest runs the app script in this process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

import ui.state
from tests.ui.fakes import FakeTutor
from tutor.auth import Account, Accounts, Role
from tutor.course.loader import load_course
from tutor.course.models import Course, Item
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ui" / "app.py"
CONTENT = ROOT / "content"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for a private data folder, offline (no API key), reading the sample courses."""
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(CONTENT))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("TUTOR_ANTHROPIC_API_KEY", "")
    for name in ("TUTOR_DATABASE_URL", "TUTOR_CHROMA_PATH", "TUTOR_CHROMA_URL", "ANTHROPIC_BASE_URL",
                 "TUTOR_ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer `.env` is read
    st.cache_resource.clear()
    yield Settings()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def fractions() -> Course:
    return load_course(CONTENT / "fractions")


@pytest.fixture(scope="session")
def privacy() -> Course:
    return load_course(CONTENT / "data-privacy")


@pytest.fixture(scope="module")
def loaded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose passage store holds the fractions course's sources (built once per module)."""
    from tutor.retrieval import ingest_course, open_store

    data_dir = tmp_path_factory.mktemp("loaded") / "data"
    ingest_course(open_store(Settings(_env_file=None, data_dir=data_dir)), CONTENT / "fractions")
    return data_dir


def use_fake(monkeypatch: pytest.MonkeyPatch, tutor: FakeTutor) -> FakeTutor:
    monkeypatch.setattr(ui.state, "build_tutor", lambda settings: tutor)
    return tutor


@pytest.fixture
def fake(settings: Settings, fractions: Course, monkeypatch: pytest.MonkeyPatch) -> FakeTutor:
    """A scripted tutor on the fractions course asking meaning-a1, then meaning-b1, then meaning-a2."""
    items: list[Item] = [fractions.item("meaning-a1"), fractions.item("meaning-b1"), fractions.item("meaning-a2")]
    return use_fake(monkeypatch, FakeTutor(settings, fractions, items))


def new_app() -> AppTest:
    """A fresh browser session on the app (its own st.session_state)."""
    return AppTest.from_file(str(APP), default_timeout=60)


def _strings(message: Message) -> list[str]:
    """Every string in a protobuf message, recursively (labels, bodies, options, values, specs...)."""
    found: list[str] = []
    for _field, value in message.ListFields():
        values = value if isinstance(value, list | tuple) or hasattr(value, "__len__") and not isinstance(
            value, str | bytes | Message) else [value]
        for v in values:
            if isinstance(v, Message):
                found.extend(_strings(v))
            elif isinstance(v, str):
                found.append(v)
            elif isinstance(v, bytes):
                found.append(v.decode("utf-8", "replace"))
    return found


def all_text(at: AppTest) -> str:
    """Everything rendered in the main area and the sidebar: every string of every element sent to the browser."""
    parts: list[str] = []
    for block in (at.main, at.sidebar):
        for node in block:
            proto = getattr(node, "proto", None)
            if isinstance(proto, Message):
                parts.extend(_strings(proto))
    return "\n".join(parts)


def session_values(at: AppTest) -> str:
    """Every key and value in the app's session state, as text."""
    return "\n".join(f"{key}={at.session_state[key]!r}" for key in at.session_state)


PASSWORD = "a password for the page tests"


def account(name: str, role: Role = Role.LEARNER) -> Account:
    """The account named `name` in this test's database (added with PASSWORD and `role` if missing)."""
    accounts = Accounts(Settings().resolved_database_url)
    try:
        return accounts.find(name) or accounts.add(name, PASSWORD, role)
    finally:
        accounts.close()


def key(name: str) -> str:
    """The learner id the tutor is called with for the account `name`: its records key."""
    return account(name).learner_key


def sign_in_only(at: AppTest, name: str, role: Role = Role.LEARNER, password: str = PASSWORD) -> AppTest:
    """Sign in on the sign-in page (the account is created first if missing)."""
    account(name, role)
    at.run()
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def sign_in(at: AppTest, name: str, course: str | None = None, role: Role = Role.LEARNER) -> AppTest:
    """Sign in, then pick the course (default: the first) on the Learn page and start."""
    at = sign_in_only(at, name, role)
    if course is not None:
        at.selectbox(key="sign_in_course").select(course)
    next(b for b in at.button if b.label == "Start learning").click()
    return at.run()


def open_page(page: str, name: str, role: Role) -> AppTest:
    """A fresh browser session signed in as `name` (with `role`) on `page` (e.g. "pages/content.py")."""
    at = sign_in_only(new_app(), name, role)
    at.switch_page(page)
    return at.run()


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()
