"""xAPI statements through the outbox to a real LRS (Ralph, run locally): delivered once, kept while the store
is down, delivered when it comes back, never stored twice."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.lrs import PASSWORD, USERNAME, RalphLRS
from tutor.records import Base
from tutor.xapi import Event, LrsConfig, OutboxRow, XapiSender, backoff_delay, build_statement, outbox_row

HOME = "https://tutor.example.org"


@pytest.fixture(scope="module")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    store = RalphLRS(tmp_path_factory.mktemp("lrs"))
    store.start()
    yield store
    store.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _event(n: int, verb: str = "answered") -> Event:
    return Event(
        verb=verb,  # type: ignore[arg-type]
        key=f"q-{n}",
        account_id="acct-7f3a",
        display_name="José Álvarez",
        course_id="fractions",
        course_title="Fractions",
        course_version="sha256:abc123",
        at=datetime(2026, 11, 30, 9, n % 60, tzinfo=UTC),
        skill_id="equivalent",
        skill_title="Equivalent fractions",
        question_id=f"q-{n}",
        item_prompt="9/12 = 3/?",
        success=n % 2 == 0,
        score=1.0 if n % 2 == 0 else 0.0,
        response="4",
    )


def _enqueue(sessions: sessionmaker[Session], events: list[Event], now: datetime) -> None:
    with sessions.begin() as session:
        for event in events:
            session.add(outbox_row(build_statement(event, home_page=HOME), now))


def test_statements_reach_the_lrs_once_and_survive_an_outage(lrs: RalphLRS, tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    clock = Clock()
    sender = XapiSender(sessions, LrsConfig(lrs.url, USERNAME, PASSWORD, batch=7), clock=clock)
    before = {s["id"] for s in lrs.statements()}

    _enqueue(sessions, [_event(n) for n in range(10)], clock.now)
    report = sender.send_due()
    assert (report.sent, report.failed, report.pending) == (10, 0, 0)

    lrs.stop()  # the store goes down: statements wait in the outbox, the sender reports and backs off
    _enqueue(sessions, [_event(n) for n in range(10, 16)] + [_event(99, "mastered")], clock.now)
    report = sender.send_due()
    assert report.sent == 0 and report.pending == 7
    with sessions() as session:
        rows = list(session.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_(None))))
    assert all(r.tries == 1 and r.last_error and r.next_try_at.replace(tzinfo=UTC) > clock.now for r in rows)
    assert sender.send_due().sent == 0  # not due yet: no retry storm

    lrs.start()  # it comes back: once the backoff has passed, everything is delivered
    clock.now += timedelta(minutes=10)
    report = sender.send_due()
    assert (report.sent, report.pending) == (7, 0)

    # a second sender re-sending everything (a lost acknowledgement) stores nothing twice
    with sessions.begin() as session:
        for row in session.scalars(select(OutboxRow)):
            row.sent_at = None
    assert sender.send_due().sent == 17

    stored = [s for s in lrs.statements() if s["id"] not in before]
    assert len(stored) == 17 and len({s["id"] for s in stored}) == 17
    mastered = next(s for s in stored if s["verb"]["id"].endswith("/mastered"))  # type: ignore[index]
    assert mastered["actor"] == {"objectType": "Agent", "name": "José Álvarez",
                                 "account": {"homePage": HOME, "name": "acct-7f3a"}}
    assert mastered["object"]["id"] == f"{HOME}/courses/fractions/skills/equivalent"  # type: ignore[index]
    ext = mastered["context"]["extensions"]  # type: ignore[index]
    assert ext[f"{HOME}/xapi/course-version"] == "sha256:abc123"
    sender.stop()


def test_statement_ids_follow_the_ledger_fact() -> None:
    a = build_statement(_event(1), home_page=HOME)
    b = build_statement(_event(1), home_page=HOME)
    c = build_statement(_event(2), home_page=HOME)
    d = build_statement(_event(1, "mastered"), home_page=HOME)
    assert a.id == b.id and len({a.id, c.id, d.id}) == 3
    assert a.result == {"success": False, "score": {"scaled": 0.0}, "response": "4"}


def test_backoff_grows_and_is_jittered() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(t, rng=rng) for t in range(1, 12)]
    assert all(1.0 <= d <= 300 for d in delays)
    assert delays[5] > delays[0]
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_an_answer_waiting_for_review_is_reported_without_a_grade_then_with_the_persons(tmp_path: Path) -> None:
    from tests.support.learner import course_dir
    from tutor.course.loader import load_course
    from tutor.records import GradedAnswer, IssuedQuestion, Records
    from tutor.xapi import XapiOutbox

    course = load_course(course_dir("mini-course"))
    item = next(i for i in course.items["words"] if i.kind == "free_response")
    records = Records(f"sqlite:///{tmp_path / 'tutor.db'}")
    records.set_outbox(XapiOutbox({course.id: course}, {course.id: "sha256:v1"}, home_page=HOME,
                                  display_name=lambda _session, _learner: "Ana"))
    when = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    records.issue_question(IssuedQuestion(
        question_id="q-free", learner_id="acct-1", course_id=course.id, skill_id="words", item_id=item.id,
        form=item.form, kind=item.kind, seed=0, params={}, mode="learn", issued_at=when))
    records.record_attempt(GradedAnswer(question_id="q-free", answer="the bottom number", correct=True,
                                        grader="offline", feedback="waiting for review", created_at=when,
                                        confidence=0.55, pending_review=True))
    records.review("q-free", correct=False, reviewer="teacher", at=when + timedelta(hours=1))
    with sessionmaker(records.engine)() as session:
        bodies = [r.body for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    records.close()
    assert len(bodies) == 2 and bodies[0]["id"] != bodies[1]["id"]
    assert bodies[0]["result"] == {"response": "the bottom number"}  # no grade while a person has not graded it
    assert bodies[1]["result"]["success"] is False and bodies[1]["timestamp"].startswith("2026-11-30T11:00")
