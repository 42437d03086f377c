"""Accounts, sign-in sessions and sign-in failures in the tutor's database (tables on the ledger's `Base`).

An account has an internal id (a uuid) that never changes, a sign-in name, a display name in any script, a role,
and a `learner_key`: the id its learner records are filed under (its own id, or the old learner name an admin
linked it to, so a history recorded before accounts existed carries on unchanged).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, create_engine, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tutor.auth import passwords
from tutor.auth.names import clean_display_name, normalise_username
from tutor.auth.permissions import Role
from tutor.auth.throttle import Policy, locked_until
from tutor.records import AttemptRow, Base, DecisionRow, ExplanationRow, migrate


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: signs in through OIDC
    role: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    learner_key: Mapped[str] = mapped_column(String(100), unique=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SessionRow(Base):
    __tablename__ = "auth_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class FailureRow(Base):
    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)  # "name:<username>" or "client:<address>"
    at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str
    role: Role
    disabled: bool
    learner_key: str
    oidc_subject: str | None
    must_change_password: bool
    has_password: bool

    @classmethod
    def of(cls, row: AccountRow) -> Account:
        return cls(row.id, row.username, row.display_name, Role(row.role), row.disabled, row.learner_key,
                   row.oidc_subject, row.must_change_password, row.password_hash is not None)


class AccountError(ValueError):
    """An account operation that cannot be done; the message says why and what to do."""


class SignInRefused(AccountError):
    """Wrong name or password, or a disabled account (the message never says which)."""


class Throttled(AccountError):
    """Too many failed sign-ins recently; `until` is when attempts may resume."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"too many failed sign-ins: try again after {until:%H:%M} UTC")


NAME_POLICY = Policy()
"""Default: 5 failures per sign-in name within 15 minutes."""
CLIENT_POLICY = Policy(max_failures=20)
"""Default: 20 failures per client address within 15 minutes (one client guessing many names)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Accounts:
    """The accounts repository. One instance per database URL."""

    def __init__(self, url: str, *, name_policy: Policy = NAME_POLICY, client_policy: Policy = CLIENT_POLICY) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        migrate.upgrade(self.engine)  # the schema is the ledger's, one Alembic history
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.name_policy = name_policy
        self.client_policy = client_policy

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # accounts

    def add(self, username: str, password: str | None, role: Role = Role.LEARNER, *, display_name: str | None = None,
            oidc_subject: str | None = None, must_change_password: bool = False) -> Account:
        name = normalise_username(username)
        account_id = uuid.uuid4().hex
        row = AccountRow(
            id=account_id, username=name, display_name=clean_display_name(display_name or username.strip()),
            password_hash=passwords.hash_password(password) if password is not None else None, role=role.value,
            disabled=False, learner_key=account_id, oidc_subject=oidc_subject,
            must_change_password=must_change_password, created_at=_now(),
        )
        try:
            with self._session() as session:
                session.add(row)
        except IntegrityError:
            raise AccountError(f"an account named {name!r} already exists") from None
        return Account.of(row)

    def get(self, account_id: str) -> Account | None:
        with self._session() as session:
            row = session.get(AccountRow, account_id)
            return Account.of(row) if row else None

    def find(self, username: str) -> Account | None:
        with self._session() as session:
            row = self._row(session, username)
            return Account.of(row) if row else None

    def by_subject(self, subject: str) -> Account | None:
        with self._session() as session:
            row = session.scalars(select(AccountRow).where(AccountRow.oidc_subject == subject)).first()
            return Account.of(row) if row else None

    def all(self) -> list[Account]:
        with self._session() as session:
            return [Account.of(r) for r in session.scalars(select(AccountRow).order_by(AccountRow.username))]

    def has_admin(self) -> bool:
        query = select(func.count()).select_from(AccountRow).where(
            AccountRow.role == Role.ADMIN.value, AccountRow.disabled.is_(False))
        with self._session() as session:
            return bool(session.scalar(query))

    def _row(self, session: Session, username: str) -> AccountRow | None:
        try:
            name = normalise_username(username)
        except ValueError:
            return None
        return session.scalars(select(AccountRow).where(AccountRow.username == name)).first()

    def _update(self, username: str, **changes: Any) -> Account:
        with self._session() as session:
            row = self._row(session, username)
            if row is None:
                raise AccountError(f"no account named {username!r} (see `tutor users list`)")
            for key, value in changes.items():
                setattr(row, key, value)
            if changes.keys() & {"password_hash", "disabled", "role"}:
                session.execute(delete(SessionRow).where(SessionRow.account_id == row.id))
            return Account.of(row)

    def set_role(self, username: str, role: Role) -> Account:
        return self._update(username, role=role.value)

    def reset_password(self, username: str, password: str, *, must_change: bool = False) -> Account:
        """A new password; every session of the account is signed out."""
        return self._update(username, password_hash=passwords.hash_password(password),
                            must_change_password=must_change)

    def set_disabled(self, username: str, disabled: bool = True) -> Account:
        """Disable (or enable) an account; a disabled account cannot sign in and its sessions end."""
        return self._update(username, disabled=disabled)

    def link(self, username: str, learner_name: str) -> Account:
        """File the account's learning under an existing name-only learner history (`learner_name`).

        Nothing is copied or deleted: the account's records key becomes that name. Refused when another account
        already holds the name, or when the account has recorded learning of its own that would be hidden.
        """
        from tutor.session import normalise_learner_id

        key = normalise_learner_id(learner_name)
        with self._session() as session:
            row = self._row(session, username)
            if row is None:
                raise AccountError(f"no account named {username!r} (see `tutor users list`)")
            holder = session.scalars(select(AccountRow).where(AccountRow.learner_key == key)).first()
            if holder is not None and holder.id != row.id:
                raise AccountError(f"learner history {key!r} is already linked to account {holder.username!r}")
            if _recorded(session, row.learner_key) and row.learner_key != key:
                raise AccountError(f"account {row.username!r} has learning of its own; linking would hide it")
            if not _recorded(session, key):
                raise AccountError(f"no learner history named {key!r} in the records (check the spelling)")
            row.learner_key = key
            return Account.of(row)

    # sign-in

    def authenticate(self, username: str, password: str, client: str, now: datetime | None = None) -> Account:
        """The account for a correct name and password; raises Throttled or SignInRefused.

        Failures count against the name and the client address; while either is throttled, even a correct
        password is refused.
        """
        now = now or _now()
        name_key = f"name:{' '.join(username.split()).casefold()[:100]}"
        client_key = f"client:{client[:100]}"
        with self._session() as session:
            for key, policy in ((name_key, self.name_policy), (client_key, self.client_policy)):
                times = session.scalars(select(FailureRow.at).where(
                    FailureRow.key == key, FailureRow.at > now - policy.window)).all()
                until = locked_until(list(times), now, policy)
                if until is not None:
                    raise Throttled(until)
            row = self._row(session, username)
            ok = (row is not None and row.password_hash is not None and not row.disabled
                  and passwords.verify(row.password_hash, password))
            if not ok or row is None:
                session.add_all([FailureRow(key=name_key, at=now), FailureRow(key=client_key, at=now)])
            else:
                session.execute(delete(FailureRow).where(FailureRow.key == name_key))
                if row.password_hash and passwords.needs_rehash(row.password_hash):
                    row.password_hash = passwords.hash_password(password)
                return Account.of(row)
        raise SignInRefused("wrong sign-in name or password")

    def open_session(self, account_id: str, lifetime: timedelta, now: datetime | None = None) -> str:
        """A new sign-in session for the account; returns its random id (to be signed into a token)."""
        now = now or _now()
        session_id = secrets.token_urlsafe(32)
        with self._session() as session:
            session.add(SessionRow(id=session_id, account_id=account_id, created_at=now, expires_at=now + lifetime))
        return session_id

    def session_account(self, session_id: str, now: datetime | None = None) -> Account | None:
        """The account of a live session, or None when it ended, expired or the account is disabled."""
        now = now or _now()
        with self._session() as session:
            row = session.get(SessionRow, session_id)
            if row is None or row.expires_at <= now:
                return None
            account = session.get(AccountRow, row.account_id)
            return Account.of(account) if account and not account.disabled else None

    def close_session(self, session_id: str) -> None:
        with self._session() as session:
            session.execute(delete(SessionRow).where(SessionRow.id == session_id))


def _recorded(session: Session, learner_id: str) -> bool:
    """Whether the records hold anything for this learner id."""
    return any(session.scalar(select(func.count()).select_from(table).where(table.learner_id == learner_id))
               for table in (AttemptRow, ExplanationRow, DecisionRow))
