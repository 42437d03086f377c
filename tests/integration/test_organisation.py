"""The organisation's view from learners driven through the tutor (never rows written by hand): the group report,
the evidence behind every mastery, instructors scoped to their groups, `tutor report`, and xAPI statements
delivered to a real LRS."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.learner import Clock, answer, course_dir, drain
from tests.support.lrs import PASSWORD, USERNAME, RalphLRS
from tutor.auth.store import Accounts
from tutor.cli import main
from tutor.cohort import learner_record, report_for
from tutor.course.loader import load_course
from tutor.dashboard import mastery_evidence
from tutor.groups import Groups
from tutor.retrieval import ingest_course, open_store
from tutor.session import Tutor
from tutor.settings import Settings


@pytest.fixture(scope="module")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    store = RalphLRS(tmp_path_factory.mktemp("lrs"))
    store.start()
    yield store
    store.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, lrs: RalphLRS) -> Iterator[dict[str, object]]:
    """Two groups on the mini course: in A, José masters everything and Bo keeps failing; in B, Cy starts."""
    root = tmp_path_factory.mktemp("org")
    content = root / "content"
    shutil.copytree(course_dir("mini-course"), content / "mini-course")  # folder name differs from the id "mini"
    settings = Settings(data_dir=root / "data", content_dir=content, xapi_url=lrs.url, xapi_username=USERNAME,
                        xapi_password=PASSWORD, xapi_home_page="https://tutor.example.org", xapi_interval=3600)
    ingest_course(open_store(settings), content / "mini-course")
    accounts = Accounts(settings.resolved_database_url)
    people = {name: accounts.add(name, f"{name}-password-1", display_name=display) for name, display in
              (("jose", "José Núñez"), ("bo", "Bo"), ("cy", "Cy"), ("ann", "Ann"), ("ben", "Ben"))}
    clock = Clock()
    tutor = Tutor(settings, clock=clock)
    groups = Groups(tutor.records.engine)
    for name, learners, teacher in (("Group A", ("jose", "bo"), "ann"), ("Group B", ("cy",), "ben")):
        groups.create(name, created_by="test", now=clock())
        for learner in learners:
            groups.add_member(name, people[learner].id)
        groups.add_member(name, people[teacher].id, "instructor")
        groups.assign_course(name, "mini")

    def turns(who: str, n: int, *, right: bool) -> None:
        key = people[who].learner_key
        drain(tutor.start(key, "mini"))
        for _ in range(n):
            if tutor.view(key, "mini").complete:
                return
            clock.advance(minutes=2)
            drain(tutor.send(key, "mini", answer(tutor, key, "mini", right=right)))

    turns("jose", 60, right=True)
    turns("bo", 9, right=False)
    turns("cy", 2, right=True)
    assert tutor._xapi is not None
    yield {"settings": settings, "tutor": tutor, "people": people, "groups": groups, "clock": clock,
           "accounts": accounts, "lrs": lrs}
    tutor.close()
    accounts.close()


def test_the_group_report_shows_who_mastered_what_and_who_is_stuck(world: dict[str, object]) -> None:
    tutor, people = world["tutor"], world["people"]
    assert isinstance(tutor, Tutor) and isinstance(people, dict)
    course = tutor.course("mini")
    cohort = [learner_record(tutor.records, course, people[n].learner_key, people[n].display_name)
              for n in ("jose", "bo")]
    report = report_for(course, cohort, now=tutor.clock(), idle_days=7)
    jose, bo = people["jose"].learner_key, people["bo"].learner_key
    assert {report.grid[(jose, s.id)].state for s in course.skills} == {"mastered"}
    assert report.completed[jose] is not None and report.completed[bo] is None
    assert report.grid[(bo, "halves")].state == "in_progress" and report.grid[(bo, "adding")].state == "locked"
    assert report.grid[(bo, "halves")].items == 9
    assert any(s.learner_id == bo and "re-taught" in s.reason for s in report.stuck)
    assert all(f.mastered == 1 for f in report.figures)


def test_evidence_lists_exactly_the_attempts_the_gate_read(world: dict[str, object]) -> None:
    tutor, people = world["tutor"], world["people"]
    assert isinstance(tutor, Tutor) and isinstance(people, dict)
    course = tutor.course("mini")
    record = learner_record(tutor.records, course, people["jose"].learner_key, "José")
    evidence = mastery_evidence(record.attempts, record.decisions)
    assert {e.decision.skill_id for e in evidence} == {s.id for s in course.skills}
    for e in evidence:
        read = [a.question_id for a in record.attempts
                if a.skill_id == e.decision.skill_id and a.answered_at <= e.decision.at]
        assert [a.question_id for a in e.attempts] == read and read
        assert e.decision.criterion == course.criterion(e.decision.skill_id).model_dump()
        assert e.decision.course_version == tutor.course_versions["mini"].removeprefix("")
        assert e.decision.course_version.startswith("sha256:")
        assert all(a.correct for a in e.attempts)
        assert {a.grader for a in e.attempts} <= {"rule", "offline"}


def test_an_instructor_sees_only_their_groups(world: dict[str, object]) -> None:
    groups, people = world["groups"], world["people"]
    assert isinstance(groups, Groups) and isinstance(people, dict)
    assert [g.name for g in groups.visible_to(people["ann"].id, admin=False)] == ["Group A"]
    assert [g.name for g in groups.visible_to(people["ben"].id, admin=False)] == ["Group B"]
    assert groups.teaches(people["ann"].id, people["jose"].id)
    assert not groups.teaches(people["ben"].id, people["jose"].id)
    assert len(groups.visible_to(people["ann"].id, admin=True)) == 2


def test_tutor_report_from_the_command_line(world: dict[str, object], monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, people = world["settings"], world["people"]
    assert isinstance(settings, Settings) and isinstance(people, dict)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(settings.content_dir))
    out = tmp_path / "a.json"
    assert main(["report", "--course", "mini", "--group", "Group A", "--format", "json", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    payload = json.loads(out.read_text())
    assert [learner["name"] for learner in payload["learners"]] == ["José Núñez", "Bo"]
    assert payload["completion_share"] == 0.5
    assert payload["course"]["version"].startswith("sha256:")
    jose = people["jose"].learner_key
    assert {e["skill_id"] for e in payload["evidence"][jose]} == {"halves", "adding", "words"}
    assert main(["report", "--course", "mini", "--group", "Group B", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("learner_id,learner,skill_id") and len(lines) == 1 + 3
    assert main(["report", "--course", "nope", "--format", "csv"]) == 2
    assert "no course 'nope'" in capsys.readouterr().err
    assert main(["groups", "add", "Group Z", "bo"]) == 2
    assert "no group 'Group Z'" in capsys.readouterr().err


def test_every_answer_and_mastery_reaches_the_lrs_once(world: dict[str, object]) -> None:
    tutor, lrs, people = world["tutor"], world["lrs"], world["people"]
    assert isinstance(tutor, Tutor) and isinstance(lrs, RalphLRS) and isinstance(people, dict)
    assert tutor._xapi is not None
    lrs.stop()  # the store is down while a learner works: the turn does not wait, nothing is lost
    cy = people["cy"].learner_key
    clock = world["clock"]
    assert isinstance(clock, Clock)
    for _ in range(2):
        clock.advance(minutes=2)
        drain(tutor.send(cy, "mini", answer(tutor, cy, "mini", right=True)))
    assert tutor._xapi.send_due().pending > 0
    lrs.start()
    clock.advance(minutes=30)
    report = tutor._xapi.send_due()
    assert report.pending == 0
    statements = lrs.statements()
    assert len({s["id"] for s in statements}) == len(statements)
    verbs = Counter(str(s["verb"]["display"]["en-US"]) for s in statements)  # type: ignore[index]
    attempts = len(tutor.records.attempts("mini"))
    mastered = [d for d in tutor.records.decisions("mini") if d.status == "mastered"]
    assert verbs["answered"] == attempts and verbs["mastered"] == len(mastered) and verbs["completed"] == 1
    names = {str(s["actor"]["name"]) for s in statements}  # type: ignore[index]
    assert {"José Núñez", "Bo", "Cy"} <= names
    assert load_course(course_dir("mini-course")).id == "mini"
