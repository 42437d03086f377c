"""The ledger behind the session, on SQLite and on a real PostgreSQL: answers bound to their question, stale and
repeated answers, a lost or damaged checkpoint rebuilt from the ledger, two processes answering at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.learner import Clock, answer, course_dir, drain
from tests.support.together import start_together
from tutor.course.loader import load_course
from tutor.records import Records
from tutor.retrieval import ingest_course, open_store
from tutor.session import REBUILT, STALE, Tutor
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COURSE = "mini"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("store")
    ingest_course(open_store(Settings(data_dir=data)), course_dir("mini-course"))
    return data


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path / "data", database_url=url)


TutorFactory = Callable[[], Tutor]


@pytest.fixture
def make_tutor(settings: Settings, store_dir: Path) -> Iterator[TutorFactory]:
    made: list[Tutor] = []
    store = open_store(Settings(data_dir=store_dir))
    course = load_course(course_dir("mini-course"))
    clock = Clock()

    def make() -> Tutor:
        tutor = Tutor(settings, store=store, courses=[course], clock=clock)
        made.append(tutor)
        return tutor

    yield make
    for tutor in made:
        tutor.close()


def _pending_id(tutor: Tutor, learner: str) -> str:
    pending = tutor.view(learner, COURSE).pending
    assert pending is not None, "no question shown"
    return str(pending["question_id"])


def _feedback(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e["message"] for e in events if e["type"] == "message"  # type: ignore[misc]
            and e["message"]["kind"] == "feedback"]  # type: ignore[index]


def test_each_question_is_issued_before_it_is_shown_and_answered_once(make_tutor: TutorFactory) -> None:
    tutor = make_tutor()
    drain(tutor.start("ann", COURSE))
    for _ in range(4):
        question = _pending_id(tutor, "ann")
        issued = tutor.records.question(question)
        assert issued is not None and issued.item_id == tutor.view("ann", COURSE).pending["item_id"]  # type: ignore[index]
        events = drain(tutor.send("ann", COURSE, answer(tutor, "ann", COURSE, right=True), question_id=question))
        (feedback,) = _feedback(events)
        assert feedback["question_id"] == question
    attempts = tutor.records.attempts(COURSE, "ann")
    assert len(attempts) == 4 and len({a.question_id for a in attempts}) == 4
    assert all(a.grader == "rule" and a.correct for a in attempts)


def test_a_stale_answer_is_refused_and_a_repeat_gets_its_original_feedback(make_tutor: TutorFactory) -> None:
    tutor = make_tutor()
    drain(tutor.start("bo", COURSE))
    first = _pending_id(tutor, "bo")
    wrong = answer(tutor, "bo", COURSE, right=False)
    (original,) = _feedback(drain(tutor.send("bo", COURSE, wrong, question_id=first)))
    current = _pending_id(tutor, "bo")
    assert current != first
    # the same answer again (a double submit, a retry after a timeout): the original feedback, nothing new
    replay = drain(tutor.send("bo", COURSE, wrong, question_id=first))
    assert [m["text"] for m in _feedback(replay)] == [original["text"]]
    # another answer to the old question (a stale tab): refused, and the current question shown again
    stale = drain(tutor.send("bo", COURSE, "something else", question_id=first))
    assert {"type": "notice", "text": STALE} in stale
    shown = [e["message"] for e in stale if e["type"] == "message"]  # type: ignore[index]
    assert [m["item"]["question_id"] for m in shown] == [current]  # type: ignore[index]
    assert [a.question_id for a in tutor.records.attempts(COURSE, "bo")] == [first]
    assert _pending_id(tutor, "bo") == current


def _answer_some(tutor: Tutor, learner: str, n: int) -> None:
    drain(tutor.start(learner, COURSE))
    for i in range(n):
        text = answer(tutor, learner, COURSE, right=i % 3 != 2)
        drain(tutor.send(learner, COURSE, text, question_id=_pending_id(tutor, learner)))


@pytest.mark.parametrize("damage", ["deleted", "truncated", "garbage"])
def test_a_lost_or_damaged_checkpoint_is_rebuilt_from_the_ledger(
    make_tutor: TutorFactory, settings: Settings, damage: str
) -> None:
    if settings.database_url and damage != "deleted":
        pytest.skip("the checkpoint file exists only on SQLite")
    tutor = make_tutor()
    _answer_some(tutor, "cy", 5)
    before = tutor.view("cy", COURSE)
    question = _pending_id(tutor, "cy")
    if settings.database_url:
        tutor.checkpointer.delete_thread(f"cy:{COURSE}")  # the checkpoints live in PostgreSQL
    tutor.close()
    path = settings.checkpoint_path
    if damage == "deleted":
        if not settings.database_url:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    elif damage == "truncated":
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    else:
        path.write_bytes(os.urandom(20000))
    resumed = make_tutor()
    view = resumed.view("cy", COURSE)
    assert view.skill_map == before.skill_map  # progress is the ledger's, checkpoint or not
    events = drain(resumed.start("cy", COURSE))
    notices = [e["message"]["text"] for e in events if e["type"] == "message"  # type: ignore[index]
               and e["message"]["kind"] == "notice"]  # type: ignore[index]
    assert notices == [REBUILT]
    assert _pending_id(resumed, "cy") == question  # the same question again, not a new one
    assert resumed.view("cy", COURSE).messages[-1]["item"]["question_id"] == question  # type: ignore[typeddict-item]
    drain(resumed.send("cy", COURSE, answer(resumed, "cy", COURSE, right=True), question_id=question))
    attempts = resumed.records.attempts(COURSE, "cy")
    assert len(attempts) == 6 and attempts[-1].question_id == question
    assert drain(resumed.start("cy", COURSE)) == []  # consistent again: nothing more to rebuild


def test_a_checkpoint_behind_the_ledger_is_rebuilt_and_never_grades_against_the_wrong_question(
    make_tutor: TutorFactory, settings: Settings
) -> None:
    """A crash after the attempt was written but before the checkpoint was saved: the checkpoint still waits on
    the answered question. The learner's retry gets its original feedback, then the next question."""
    tutor = make_tutor()
    _answer_some(tutor, "dee", 2)
    config = tutor._config("dee", COURSE)
    behind = tutor.graph.get_state(config)
    question = _pending_id(tutor, "dee")
    text = answer(tutor, "dee", COURSE, right=True)
    (original,) = _feedback(drain(tutor.send("dee", COURSE, text, question_id=question)))
    next_question = _pending_id(tutor, "dee")
    tutor.checkpointer.delete_thread(f"dee:{COURSE}")
    tutor.graph.update_state(config, behind.values, as_node="ask")  # the checkpoint as it was before the answer
    drain(tutor.graph.stream(None, config, context=tutor._context("dee", COURSE)))
    assert tutor.graph.get_state(config).values["pending"]["question_id"] == question
    events = drain(tutor.send("dee", COURSE, text, question_id=question))
    assert [m["text"] for m in _feedback(events)] == [original["text"]]
    assert _pending_id(tutor, "dee") == next_question
    assert [a.question_id for a in tutor.records.attempts(COURSE, "dee")][-1] == question
    assert len(tutor.records.attempts(COURSE, "dee")) == 3


RACER = """
import sys
from tests.support.learner import answer, course_dir
from tests.support.together import ready, until
from tutor.course.loader import load_course
from tutor.retrieval import open_store
from tutor.session import Tutor
from tutor.settings import Settings
data, store, url, right, period, rounds = sys.argv[1:7]
tutor = Tutor(Settings(data_dir=data, database_url=url or None), store=open_store(Settings(data_dir=store)),
              courses=[load_course(course_dir("mini-course"))])
start = ready()  # the first round's moment, once both processes are ready
for turn in range(int(rounds)):
    at = start + turn * float(period)
    until(at)  # both processes read the open question at once ...
    pending = tutor.view("eve", "mini").pending
    if pending is None:
        print(turn, "-", "none", "-", flush=True)
        continue
    text = answer(tutor, "eve", "mini", right=right == "1")
    until(at + float(period) / 2)  # ... and answer it at once
    events = list(tutor.send("eve", "mini", text, question_id=pending["question_id"]))
    kinds = [e["message"]["kind"] if e["type"] == "message" else e["type"] for e in events]
    kind = "feedback" if "feedback" in kinds else "refused" if "notice" in kinds else "other:" + ",".join(kinds)
    print(turn, pending["question_id"], kind, text, flush=True)
tutor.close()
"""
ROUNDS = 12
PERIOD = 0.8  # seconds a round: longer than a turn takes on a busy machine


def test_two_processes_answering_one_learner_at_once_record_one_attempt_per_question(
    make_tutor: TutorFactory, settings: Settings, store_dir: Path
) -> None:
    """Two processes (two tabs on two servers) read eve's open question at the same moment and answer it at the
    same moment, round after round, one always right and one always wrong: each question has one attempt, the
    answer acknowledged is the one recorded, and the other is refused."""
    tutor = make_tutor()
    drain(tutor.start("eve", COURSE))
    procs = [subprocess.Popen(
        [sys.executable, "-c", RACER, str(settings.data_dir), str(store_dir), settings.database_url or "",
         right, str(PERIOD), str(ROUNDS)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}) for right in ("1", "0")]
    start_together(procs)
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-800:] for _, err in outs]
    rounds = [[line.split(" ", 3) for line in out.splitlines()] for out, _ in outs]
    assert [len(r) for r in rounds] == [ROUNDS, ROUNDS]
    attempts = Records(settings.resolved_database_url).attempts(COURSE, "eve")
    recorded = {a.question_id: a.answer for a in attempts}
    assert len(recorded) == len(attempts)  # one attempt per question
    races = 0
    for mine, theirs in zip(*rounds, strict=True):
        for _, question, kind, text in (mine, theirs):
            assert kind in ("feedback", "refused", "none"), kind
            if kind == "feedback":
                assert recorded[question] == text  # what was acknowledged is what is recorded
            elif kind == "refused":
                assert recorded.get(question, text) != text  # refused because the other answer was recorded
        if mine[1] == theirs[1] != "-":
            races += 1
            assert sorted([mine[2], theirs[2]]) == ["feedback", "refused"]
    assert races >= ROUNDS // 2, f"only {races} rounds raced for one question"
    assert set(recorded) == {r[1] for r in rounds[0] + rounds[1] if r[2] == "feedback"}


def _count_reads(tutor: Tutor, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each read of a checkpoint that reaches the database (the library saver's get_tuple)."""
    library = next(c for c in type(tutor.checkpointer).__mro__ if c.__name__ in ("SqliteSaver", "PostgresSaver"))
    reads: list[str] = []
    original = library.get_tuple

    def counted(self: object, config: dict[str, dict[str, str]]) -> object:
        reads.append(config["configurable"]["thread_id"])
        return original(self, config)  # type: ignore[arg-type]

    monkeypatch.setattr(library, "get_tuple", counted)
    return reads


def test_a_turn_reads_the_checkpoint_once_and_never_keeps_it_past_the_turn(
    make_tutor: TutorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutor, other = make_tutor(), make_tutor()
    drain(tutor.start("ida", COURSE))
    reads = _count_reads(tutor, monkeypatch)
    # the read that settles the session is handed to the graph run: one read a turn, not two
    text = answer(tutor, "ida", COURSE, right=True)
    (feedback,) = _feedback(drain(tutor.send("ida", COURSE, text, question_id=_pending_id(tutor, "ida"))))
    text = answer(tutor, "ida", COURSE, right=True)
    reads.clear()
    question = _pending_id(tutor, "ida")
    assert reads == ["ida:mini"]  # a page's read, outside a turn, is its own
    drain(tutor.send("ida", COURSE, text, question_id=question))
    assert reads == ["ida:mini", "ida:mini"]
    # another tutor (another process) moves the session on; the next turn here reads what it wrote
    moved = _pending_id(other, "ida")
    drain(other.send("ida", COURSE, answer(other, "ida", COURSE, right=False), question_id=moved))
    now = _pending_id(other, "ida")
    assert _pending_id(tutor, "ida") == now != moved
    events = drain(tutor.send("ida", COURSE, answer(tutor, "ida", COURSE, right=True), question_id=now))
    assert [m["question_id"] for m in _feedback(events)] == [now]
    assert [a.question_id for a in tutor.records.attempts(COURSE, "ida")][-2:] == [moved, now]
    assert feedback["correct"] is True


def test_a_read_held_for_the_turn_is_a_copy_and_a_write_drops_it(make_tutor: TutorFactory) -> None:
    tutor = make_tutor()
    drain(tutor.start("jo", COURSE))
    saver, config = tutor.checkpointer, {"configurable": {"thread_id": "jo:mini"}}
    with tutor._checkpoints.turn("jo:mini"):
        first = saver.get_tuple(config)  # type: ignore[arg-type]
        assert first is not None
        first.checkpoint["channel_versions"]["pending"] = "changed by a reader"
        handed = saver.get_tuple(config)  # type: ignore[arg-type]
        assert handed is not None and handed.checkpoint["channel_versions"].get("pending") != "changed by a reader"
        assert handed.checkpoint["id"] == first.checkpoint["id"]
        saver.get_tuple(config)  # type: ignore[arg-type]  # held again; a write must drop it
        saver.put_writes(handed.config, [("unread", True)], "a-task")
        after = saver.get_tuple(config)  # type: ignore[arg-type]
        assert after is not None and any(w[1] == "unread" for w in after.pending_writes or [])


def test_a_page_read_from_another_thread_during_a_turn_is_never_handed_to_the_turn(
    make_tutor: TutorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutor = make_tutor()
    drain(tutor.start("kim", COURSE))
    reads = _count_reads(tutor, monkeypatch)
    saver, config = tutor.checkpointer, {"configurable": {"thread_id": "kim:mini"}}
    with tutor._checkpoints.turn("kim:mini"):
        page = threading.Thread(target=saver.get_tuple, args=(config,))  # another session's page, meanwhile
        page.start()
        page.join()
        assert reads == ["kim:mini"]
        saver.get_tuple(config)  # type: ignore[arg-type]
        assert reads == ["kim:mini", "kim:mini"], "the turn was handed a read made by another thread"
        saver.get_tuple(config)  # type: ignore[arg-type]
        assert reads == ["kim:mini", "kim:mini"], "the turn's own read was not handed to its next read"
