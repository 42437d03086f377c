"""Accounts on a real SQLite database: hashing, sign-in, throttling, sessions, roles, linking a learner history."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.ledger import log_answer
from tutor.auth import AccountError, Accounts, Policy, Role, SignInRefused, Throttled
from tutor.auth.tokens import Signer, load_secret
from tutor.cli import main
from tutor.records import Records

T0 = datetime(2026, 11, 30, 12, 0)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tutor.db'}"


@pytest.fixture
def accounts(url: str) -> Accounts:
    return Accounts(url, name_policy=Policy(max_failures=3), client_policy=Policy(max_failures=6))


def test_passwords_are_stored_hashed_and_checked(accounts: Accounts, url: str) -> None:
    made = accounts.add("José", "correct horse", Role.AUTHOR)
    assert made.display_name == "José" and made.username == "josé" and made.learner_key == made.id
    raw = Path(url.removeprefix("sqlite:///")).read_bytes()
    assert b"correct horse" not in raw and b"$argon2id$" in raw
    assert accounts.authenticate("JOSÉ", "correct horse", "127.0.0.1").id == made.id
    with pytest.raises(SignInRefused):
        accounts.authenticate("josé", "wrong horse", "127.0.0.1")
    with pytest.raises(SignInRefused):
        accounts.authenticate("nobody", "correct horse", "127.0.0.1")


def test_repeated_failures_are_throttled_even_for_the_right_password(accounts: Accounts) -> None:
    accounts.add("alice", "alice-password")
    for i in range(3):
        with pytest.raises(SignInRefused):
            accounts.authenticate("alice", "guess", "10.0.0.1", now=T0 + timedelta(seconds=i))
    with pytest.raises(Throttled) as caught:
        accounts.authenticate("alice", "alice-password", "10.0.0.2", now=T0 + timedelta(seconds=5))
    assert caught.value.until == T0 + timedelta(minutes=15)
    later = T0 + timedelta(minutes=16)
    assert accounts.authenticate("alice", "alice-password", "10.0.0.2", now=later).username == "alice"


def test_one_client_guessing_many_names_is_throttled(accounts: Accounts) -> None:
    accounts.add("bob", "bob-password")
    for i in range(6):
        with pytest.raises(SignInRefused):
            accounts.authenticate(f"name{i}", "guess", "10.0.0.9", now=T0 + timedelta(seconds=i))
    with pytest.raises(Throttled):
        accounts.authenticate("bob", "bob-password", "10.0.0.9", now=T0 + timedelta(seconds=10))
    assert accounts.authenticate("bob", "bob-password", "10.0.0.8", now=T0 + timedelta(seconds=10)).username == "bob"


def test_disabled_accounts_cannot_sign_in_and_their_sessions_end(accounts: Accounts) -> None:
    carol = accounts.add("carol", "carol-password")
    session = accounts.open_session(carol.id, timedelta(hours=1))
    assert accounts.session_account(session) == carol
    accounts.set_disabled("carol")
    assert accounts.session_account(session) is None
    with pytest.raises(SignInRefused):
        accounts.authenticate("carol", "carol-password", "127.0.0.1")


def test_sessions_expire_and_close(accounts: Accounts) -> None:
    dan = accounts.add("dan", "dan-password")
    session = accounts.open_session(dan.id, timedelta(hours=1), now=T0)
    assert accounts.session_account(session, now=T0 + timedelta(minutes=59)) == dan
    assert accounts.session_account(session, now=T0 + timedelta(hours=1)) is None
    other = accounts.open_session(dan.id, timedelta(hours=1))
    accounts.close_session(other)
    assert accounts.session_account(other) is None


def test_role_changes_and_password_resets_sign_out(accounts: Accounts) -> None:
    erin = accounts.add("erin", "erin-password")
    session = accounts.open_session(erin.id, timedelta(hours=1))
    assert accounts.set_role("erin", Role.INSTRUCTOR).role is Role.INSTRUCTOR
    assert accounts.session_account(session) is None
    accounts.reset_password("erin", "new-password")
    assert accounts.authenticate("erin", "new-password", "127.0.0.1").role is Role.INSTRUCTOR


def test_duplicate_names_and_short_passwords_are_refused(accounts: Accounts) -> None:
    accounts.add("frank", "frank-password")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("FRANK", "another-password")
    with pytest.raises(ValueError, match="at least 8"):
        accounts.add("gina", "short")


def test_linking_keeps_a_name_only_history(accounts: Accounts, url: str) -> None:
    records = Records(url)
    log_answer(records, learner_id="alice", course_id="fractions", skill_id="meaning", item_id="meaning-a1",
               correct=True, answer="3", when=T0)
    alice = accounts.add("alice.w", "alice-password")
    linked = accounts.link("alice.w", "ALICE")
    assert linked.learner_key == "alice" and linked.id == alice.id
    assert [r.learner_id for r in records.attempts("fractions", linked.learner_key)] == ["alice"]
    other = accounts.add("mallory", "mallory-password")
    with pytest.raises(AccountError, match="already linked"):
        accounts.link(other.username, "alice")
    with pytest.raises(AccountError, match="no learner history"):
        accounts.link(other.username, "zed")


def test_the_secret_is_generated_once_privately_and_tokens_expire(tmp_path: Path) -> None:
    secret = load_secret(None, tmp_path)
    assert load_secret(None, tmp_path) == secret and len(secret) >= 48
    assert (tmp_path / "auth_secret").stat().st_mode & 0o077 == 0
    signer = Signer(secret, max_age_seconds=3600)
    token = signer.sign("session-1")
    assert signer.session_id(token) == "session-1"
    assert signer.session_id(token[:-2] + "xx") is None
    assert Signer("another secret", 3600).session_id(token) is None
    assert Signer(secret, max_age_seconds=-1).session_id(token) is None


def test_users_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TUTOR_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["users", "ensure-admin"]) == 0
    printed = capsys.readouterr().out
    assert "one-time password" in printed
    assert main(["users", "ensure-admin"]) == 0
    assert "exists" in capsys.readouterr().out
    assert main(["users", "add", "李雷", "--role", "instructor"]) == 0
    assert main(["users", "set-role", "李雷", "author"]) == 0
    assert main(["users", "disable", "李雷"]) == 0
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "李雷" in listing and "author" in listing and "disabled" in listing
    assert main(["users", "set-role", "李雷", "teacher"]) == 2
    assert "unknown role 'teacher'" in capsys.readouterr().err
    assert main(["users", "reset-password", "nobody"]) == 2
    assert "no account named 'nobody'" in capsys.readouterr().err
