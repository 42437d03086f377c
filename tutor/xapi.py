"""xAPI: learning records for the organisation's learning record store (LRS).

Each answer, mastery, revocation and course completion becomes one xAPI 1.0.3 statement. Statements are
built here (pure functions), written to the `xapi_outbox` table in the same transaction as the ledger row
they describe, and delivered by `XapiSender`, a background thread with retries and jittered backoff. A
statement's id is a UUID derived from the ledger row it describes, so a statement sent twice (a retry after a
lost acknowledgement, two senders) is stored once by the LRS, and a learner's turn never waits on the LRS.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tutor.course.models import Course
from tutor.records import AttemptRow, Base, DecisionRow, Records
from tutor.settings import Settings

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
_NAMESPACE = uuid.UUID("6b1f0e1c-2b8a-4f3e-9a57-1d0c5e7b9a42")  # this tutor's namespace for statement ids

Verb = Literal["answered", "mastered", "revoked", "completed"]
VERB_IDS: dict[Verb, str] = {
    "answered": "http://adlnet.gov/expapi/verbs/answered",
    "mastered": "http://adlnet.gov/expapi/verbs/mastered",
    "revoked": "https://w3id.org/xapi/tla/verbs/revoked",  # a mastery withdrawn after a failed review
    "completed": "http://adlnet.gov/expapi/verbs/completed",
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "skill": "http://adlnet.gov/expapi/activities/objective",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
}


class Statement(BaseModel):
    """The subset of an xAPI statement this tutor writes; validated before it enters the outbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    actor: dict[str, Any]
    verb: dict[str, Any]
    object: dict[str, Any]
    result: dict[str, Any] | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: str

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class Event:
    """One ledger fact to report: who, what, on which skill of which course version, with what result."""

    verb: Verb
    key: str  # the ledger row's unique key (question id, decision key, ...): the statement id derives from it
    account_id: str
    display_name: str
    course_id: str
    course_title: str
    course_version: str
    at: datetime
    skill_id: str | None = None
    skill_title: str | None = None
    question_id: str | None = None
    item_prompt: str | None = None
    success: bool | None = None
    score: float | None = None  # scaled 0..1 (mastery estimate or grade)
    response: str | None = None


def statement_id(verb: Verb, key: str) -> str:
    """The statement's id: the same ledger fact always gives the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{verb}:{key}"))


def build_statement(event: Event, *, home_page: str) -> Statement:
    """An xAPI statement for one ledger event. `home_page` names the tutor deployment (actor's account)."""
    base = home_page.rstrip("/")
    course_iri = f"{base}/courses/{event.course_id}"
    if event.verb == "answered":
        obj = _activity(f"{course_iri}/questions/{event.question_id}", "question", event.item_prompt or "question")
    elif event.verb in ("mastered", "revoked"):
        obj = _activity(f"{course_iri}/skills/{event.skill_id}", "skill", event.skill_title or str(event.skill_id))
    else:
        obj = _activity(course_iri, "course", event.course_title)
    parents = [_activity(course_iri, "course", event.course_title)] if event.verb != "completed" else []
    if event.skill_id and event.verb == "answered":
        parents.append(_activity(f"{course_iri}/skills/{event.skill_id}", "skill", event.skill_title or event.skill_id))
    context: dict[str, Any] = {
        "platform": "Mastery Tutor",
        "extensions": {f"{base}/xapi/course-version": event.course_version},
    }
    if parents:
        context["contextActivities"] = {"parent": parents}
    result: dict[str, Any] = {}
    if event.success is not None:
        result["success"] = event.success
    if event.score is not None:
        result["score"] = {"scaled": round(min(1.0, max(0.0, event.score)), 4)}
    if event.response is not None:
        result["response"] = event.response[:2000]
    if event.verb == "completed":
        result["completion"] = True
    return Statement(
        id=statement_id(event.verb, event.key),
        actor={"objectType": "Agent", "name": event.display_name,
               "account": {"homePage": base, "name": event.account_id}},
        verb={"id": VERB_IDS[event.verb], "display": {"en-US": event.verb}},
        object=obj,
        result=result or None,
        context=context,
        timestamp=event.at.astimezone(UTC).isoformat(),
    )


def _activity(iri: str, kind: str, name: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri,
            "definition": {"type": ACTIVITY_TYPES[kind], "name": {"en-US": name[:200]}}}


# ---------------------------------------------------------------- the outbox


class OutboxRow(Base):
    """A statement waiting for (or delivered to) the LRS. Written with the ledger row it describes."""

    __tablename__ = "xapi_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


def outbox_row(statement: Statement, now: datetime) -> OutboxRow:
    """The row to add in the ledger's transaction."""
    return OutboxRow(statement_id=statement.id, body=statement.body(), created_at=now, sent_at=None, tries=0,
                     next_try_at=now, last_error=None)


DECISION_VERBS: dict[str, Verb] = {"mastered": "mastered", "revoked": "revoked", "completed": "completed"}


class XapiOutbox:
    """Turns each new ledger row into its statement(s), inside the ledger's transaction (`Records.set_outbox`)."""

    def __init__(self, courses: Mapping[str, Course], versions: Mapping[str, str], *, home_page: str,
                 display_name: Callable[[Session, str], str | None]) -> None:
        self._courses = courses
        self._versions = versions
        self._home = home_page
        self._display_name = display_name

    def __call__(self, session: Session, row: AttemptRow | DecisionRow) -> list[OutboxRow]:
        course = self._courses.get(row.course_id)
        if course is None:
            return []
        skill = next((s for s in course.skills if s.id == row.skill_id), None)
        base = Event(verb="answered", key="", account_id=row.learner_id,
                     display_name=self._display_name(session, row.learner_id) or row.learner_id,
                     course_id=course.id, course_title=course.title,
                     course_version=self._versions.get(course.id, ""), at=row.created_at,
                     skill_id=skill.id if skill else None, skill_title=skill.title if skill else None)
        if isinstance(row, AttemptRow):
            try:
                prompt = course.item(row.item_id).prompt
            except KeyError:
                prompt = row.item_id
            event = replace(base, key=row.question_id, question_id=row.question_id, item_prompt=prompt,
                            success=row.correct, score=1.0 if row.correct else 0.0, response=row.answer)
            if row.review_status == "pending":  # not a grade yet: a person will grade it
                event = replace(event, success=None, score=None)
            elif row.review_status == "reviewed":  # a person's grade of an answer sent earlier without one
                event = replace(event, key=f"{row.question_id}:reviewed", at=row.reviewed_at or row.created_at)
        else:
            verb = DECISION_VERBS.get(row.status)
            if verb is None:
                return []
            event = replace(base, verb=verb, key=row.key, success=verb != "revoked", score=row.p_known,
                            course_version=row.course_version or base.course_version)
            if verb == "completed":
                event = replace(event, skill_id=None, skill_title=None)
        return [outbox_row(build_statement(event, home_page=self._home), row.created_at)]


@dataclass(frozen=True)
class LrsConfig:
    """Where statements go: the LRS's xAPI endpoint (ending in /xAPI or similar) and its basic-auth pair."""

    url: str
    username: str
    password: str
    timeout: float = 10.0
    batch: int = 50


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    pending: int


def backoff_delay(tries: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before try number `tries + 1`: exponential with full jitter (no stampede)."""
    ceiling = min(cap, base * (2 ** max(0, tries - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


class XapiSender:
    """Delivers outbox statements to the LRS. `send_due()` does one pass; `start()` runs passes in a thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LrsConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        client: httpx.Client | None = None,
    ) -> None:
        self._sessions = sessions
        self.config = config
        self._clock = clock
        self._client = client or httpx.Client(timeout=config.timeout)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _due(self, session: Session, now: datetime) -> Sequence[OutboxRow]:
        query = (select(OutboxRow).where(OutboxRow.sent_at.is_(None), OutboxRow.next_try_at <= now)
                 .order_by(OutboxRow.id).limit(self.config.batch))
        return list(session.scalars(query))

    def send_due(self) -> SendReport:
        """Send every statement that is due, in batches; failures are rescheduled with backoff."""
        sent = failed = 0
        while True:
            now = self._clock()
            with self._sessions() as session:
                rows = self._due(session, now)
            if not rows:
                break
            error = self._post([row.body for row in rows])
            with self._sessions.begin() as session:
                for row in rows:
                    if error is None:
                        session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(sent_at=now))
                    else:
                        delay = timedelta(seconds=backoff_delay(row.tries + 1))
                        session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                            tries=row.tries + 1, next_try_at=now + delay, last_error=error[:500]))
            if error is None:
                sent += len(rows)
            else:
                failed += len(rows)
                log.warning("xAPI: %d statement(s) not delivered (%s); will retry", len(rows), error)
                break
        with self._sessions() as session:
            pending = len(list(session.scalars(select(OutboxRow.id).where(OutboxRow.sent_at.is_(None)))))
        return SendReport(sent=sent, failed=failed, pending=pending)

    def _post(self, statements: list[dict[str, Any]]) -> str | None:
        """POST a batch; None when the LRS stored it (or already had every id), else why not."""
        try:
            response = self._client.post(
                f"{self.config.url.rstrip('/')}/statements",
                json=statements,
                auth=(self.config.username, self.config.password),
                headers={"X-Experience-API-Version": XAPI_VERSION},
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.status_code in (200, 204):
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"

    def start(self, interval: float = 5.0) -> None:
        """Send in a daemon thread every `interval` seconds until `stop()`."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.send_due()
                except Exception:  # the sender must outlive a database hiccup; it logs and tries again
                    log.exception("xAPI sender pass failed")
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="xapi-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._client.close()


def display_name_from_accounts(session: Session, learner_id: str) -> str | None:
    """The display name of the account whose records are filed under `learner_id` (None for a name-only learner)."""
    from tutor.auth.store import AccountRow

    return session.scalar(select(AccountRow.display_name).where(AccountRow.learner_key == learner_id))


def connect(settings: Settings, records: Records, courses: Mapping[str, Course], versions: Mapping[str, str], *,
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> XapiSender | None:
    """When an LRS is configured: write statements with every ledger row and start the sender; else None."""
    if not settings.xapi_url:
        return None
    if not settings.xapi_username or settings.xapi_password is None:
        raise ValueError("TUTOR_XAPI_URL is set but TUTOR_XAPI_USERNAME or TUTOR_XAPI_PASSWORD is not: set the "
                         "LRS's key and secret too, or unset TUTOR_XAPI_URL")
    records.set_outbox(XapiOutbox(courses, versions, home_page=settings.xapi_home_page,
                                  display_name=display_name_from_accounts))
    sender = XapiSender(sessionmaker(records.engine, expire_on_commit=False),
                        LrsConfig(settings.xapi_url, settings.xapi_username,
                                  settings.xapi_password.get_secret_value()), clock=clock)
    sender.start(settings.xapi_interval)
    return sender
