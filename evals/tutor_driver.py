"""Driving the whole tutor with one simulated learner, through `tutor.session.Tutor` (start / send / view):
the same entry point the web page and the terminal chat use.

`TutorDriver` is the one thin place that knows the Tutor's API. The only server-side thing it reads
is the handle of the pending question (item id and seed) and the teaching mode, from the checkpoint,
so the simulator can compute the answer key itself; nothing the learner sends is derived from what
the tutor showed.

`run_learner` plays one learner until the course is complete or the turn budget is spent, and returns a
`Trace`: what happened, with the learner's hidden state at every answer.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.learner_sim import SimLearner, answer_keys, compose_answer, pick_question
from tutor.course.models import Course, FreeResponseItem, Item
from tutor.course.templates import ItemInstance, instantiate
from tutor.grading import normalise_text
from tutor.session import Tutor


class _Stopped(Exception):
    """The tutor raised on a learner message: this learner's run ends there."""


def _where(exc: BaseException) -> str:
    """The innermost frames of the traceback inside the tutor package: where a tutor error was raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/tutor/" in f.filename.replace("\\", "/")]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-3:])) or "?"


class TutorDriver:
    """Start, send and read the pending question for one course (a thin wrapper over `Tutor`)."""

    def __init__(self, tutor: Tutor, course_id: str) -> None:
        self.tutor = tutor
        self.course_id = course_id
        self.course: Course = tutor.course(course_id)

    def start(self, learner_id: str) -> list[dict[str, Any]]:
        return list(self.tutor.start(learner_id, self.course_id))

    def send(self, learner_id: str, text: str, *, answer: bool = False) -> list[dict[str, Any]]:
        """A learner message; `answer=True` sends it as the page's answer box does."""
        return list(self.tutor.send(learner_id, self.course_id, text, answer=answer))

    def complete(self, learner_id: str) -> bool:
        return self.tutor.view(learner_id, self.course_id).complete

    def _values(self, learner_id: str) -> dict[str, Any]:
        config = self.tutor._config(learner_id, self.course_id)  # noqa: SLF001 - the simulator's key oracle
        return dict(self.tutor.graph.get_state(config).values or {})

    def pending(self, learner_id: str) -> tuple[Item, ItemInstance] | None:
        """The pending question and its seeded instance (server side, for the simulator's answer key)."""
        values = self._values(learner_id)
        handle = values.get("instance")
        if not values.get("pending") or not handle:
            return None
        item = self.course.item(handle["item_id"])
        return item, instantiate(item, int(handle["seed"]))

    def mode(self, learner_id: str) -> str | None:
        mode = self._values(learner_id).get("mode")
        return str(mode) if mode else None


# ---------------------------------------------------------------- what one learner's run leaves behind


@dataclass
class Attempt:
    skill: str
    item_id: str
    known: bool  # the hidden state when answering
    intended: bool  # the learner meant to answer right
    correct: bool | None  # as graded by the tutor (None: not read as an answer)
    turn: int


@dataclass
class Mastery:
    skill: str
    turn: int
    false: bool  # declared while the hidden state was unknown
    items: int  # graded answers on the skill up to and including the deciding one
    turns: int  # learner messages since the skill was first taught


@dataclass
class Leak:
    item_id: str
    kind: str  # the tutor message's kind
    key: str
    excerpt: str


@dataclass
class Sample:
    """A tutor turn for the pedagogy judge: what the learner was asked and said, and the tutor's reply."""

    kind: str
    item_prompt: str
    learner_text: str
    tutor_text: str
    correct: bool | None
    reveals_answer: bool


@dataclass
class Trace:
    learner: int
    profile: str
    turns: int = 0
    complete: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    masteries: list[Mastery] = field(default_factory=list)
    remediations: list[tuple[str, int]] = field(default_factory=list)  # (skill, graded answers on it before)
    step_backs: int = 0
    leaks: list[Leak] = field(default_factory=list)
    questions_asked: int = 0
    hints: int = 0
    learner_questions: int = 0
    questions_graded: int = 0  # learner questions the tutor graded as answers to the open question
    samples: list[Sample] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the tutor raised on a learner message (a finding)
    cpu_seconds: float = 0.0  # CPU time of the process running this learner (the tutor and the simulator)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- leaks ("telling")

_WORD_EDGE = r"(?<![\w/.]){}(?![\w/]|\.\d)"
_NUMBER = re.compile(r"\d+(?:/\d+)?(?:\.\d+)?")
_CITATION = re.compile(r"\[\d+\]")


def _has_token(text: str, token: str) -> bool:
    return re.search(_WORD_EDGE.format(re.escape(token.strip().casefold())), text.casefold()) is not None


def reveals(text: str, keys: Sequence[str], *, prompt: str, free_text: bool) -> str | None:
    """The key this tutor text gives away for the question `prompt`, if any (MathDial's "telling").

    A model answer counts when any run of 8 of its words appears in the text. A number counts when it
    appears as a whole token (so "3/4" is not found in "13/4") together with every number of the question
    (the text works this very problem, not another that happens to share its result). A word or phrase
    counts when it appears as a whole token and is not already in the question.
    """
    if free_text:
        said = f" {normalise_text(text)} "
        for key in keys:
            words = normalise_text(key).split()
            for start in range(max(1, len(words) - 7)):
                run = " ".join(words[start:start + 8])
                if run and f" {run} " in said:
                    return run
        return None
    text = _CITATION.sub(" ", text)  # citation markers like [1] are not numbers of the text
    for key in keys:
        if not key.strip() or not _has_token(text, key):
            continue
        if _NUMBER.fullmatch(key.strip()):
            if all(_has_token(text, n) for n in _NUMBER.findall(prompt)):
                return key
        elif not _has_token(prompt, key):
            return key
    return None


# ---------------------------------------------------------------- one learner


@dataclass
class _Question:
    item: Item
    instance: ItemInstance
    skill: str
    keys: list[str]
    attempted: bool = False
    hints: int = 0
    asked: int = 0


def run_learner(
    driver: TutorDriver,
    learner: SimLearner,
    *,
    budget: int,
    questions: dict[str, list[str]],
    samples: int = 3,
) -> Trace:
    """Play one simulated learner through the course, at most `budget` learner messages."""
    course = driver.course
    learner_id = f"sim-{learner.index:05d}"
    trace = Trace(learner=learner.index, profile=learner.profile)
    current: _Question | None = None
    started: dict[str, int] = {}
    mode = "learn"
    last_text = ""
    last_as_answer = False

    def on_events(events: list[dict[str, Any]]) -> None:
        nonlocal current
        for event in events:
            if event.get("type") != "message":
                continue
            message = event["message"]
            if message.get("role") != "tutor":
                continue
            kind = str(message.get("kind", ""))
            skill = str(message.get("skill") or (current.skill if current else ""))
            text = str(message.get("text", ""))
            if skill and skill not in started and kind in ("status", "explanation", "item"):
                started[skill] = trace.turns
            if kind == "item":
                pending = driver.pending(learner_id)
                assert pending is not None, "an item was shown but nothing is pending"
                item, instance = pending
                current = _Question(item, instance, skill, answer_keys(item, instance))
                trace.questions_asked += 1
                continue
            if current is not None and not current.attempted and kind not in ("feedback",):
                key = reveals(text, current.keys, prompt=current.instance.prompt,
                              free_text=isinstance(current.item, FreeResponseItem))
                if key is not None:
                    trace.leaks.append(Leak(current.item.id, kind, key, text[:300]))
                if kind in ("hint", "answer") and len(trace.samples) < samples:
                    trace.samples.append(Sample(kind, current.instance.prompt, last_text, text, None, key is not None))
            if kind in ("explanation", "remediation"):
                learner.read_explanation(skill, message.get("style"))
                if kind == "remediation":
                    before = sum(1 for a in trace.attempts if a.skill == skill and a.correct is not None)
                    trace.remediations.append((skill, before))
            elif kind == "hint":
                learner.read_hint(skill)
            elif kind == "feedback":
                learner.read_feedback(skill)
                if not last_as_answer and current is not None and not current.attempted:
                    # the tutor graded a learner question as the answer: an attempt all the same (the ledger has
                    # it, the gate counts it, and what is shown after it is no longer "before the first attempt")
                    trace.questions_graded += 1
                    current.attempted = True
                    trace.attempts.append(Attempt(current.skill, current.item.id,
                                                  learner.known.get(current.skill, False), False, None, trace.turns))
                if trace.attempts:
                    trace.attempts[-1].correct = bool(message.get("correct"))
                if current is not None and len(trace.samples) < samples and not message.get("correct"):
                    trace.samples.append(Sample(kind, current.instance.prompt, last_text, text, False, False))
            elif kind == "mastered":
                graded = [a for a in trace.attempts if a.skill == skill and a.correct is not None]
                deciding = graded[-1] if graded else None
                trace.masteries.append(Mastery(
                    skill=skill, turn=trace.turns, false=deciding is None or not deciding.known,
                    items=len(graded), turns=trace.turns - started.get(skill, 0),
                ))
            elif kind == "complete":
                trace.complete = True

    def send(text: str, *, answer: bool = False) -> None:
        nonlocal last_text, last_as_answer, mode
        last_text, last_as_answer = text, answer
        began = time.perf_counter()
        try:
            events = driver.send(learner_id, text, answer=answer)
        except Exception as exc:  # noqa: BLE001 - a tutor failure is a finding: recorded, this learner stops
            trace.errors.append(f"turn {trace.turns + 1}: {type(exc).__name__}: {str(exc)[:300]} "
                                f"(at {_where(exc)})")
            raise _Stopped from exc
        trace.latencies_ms.append((time.perf_counter() - began) * 1000)
        trace.turns += 1
        on_events(events)
        now = driver.mode(learner_id) or mode
        if now == "step_back" and mode != "step_back":
            trace.step_backs += 1
        mode = now

    on_events(driver.start(learner_id))
    try:
        while not trace.complete and trace.turns < budget:
            if current is None or current.attempted:
                pending = driver.pending(learner_id)
                if pending is None:
                    break  # nothing asked and not complete: the tutor stopped (a finding, counted by the caller)
                item, instance = pending
                skill = current.skill if current else (driver.tutor.view(learner_id, course.id).skill_id or "")
                current = _Question(item, instance, skill, answer_keys(item, instance))
            rng = learner.rng
            if current.hints < 2 and rng.random() < learner.hint_rate:
                current.hints += 1
                trace.hints += 1
                send("hint")
                continue
            if current.asked < 1 and rng.random() < learner.question_rate:
                current.asked += 1
                trace.learner_questions += 1
                send(pick_question(questions.get(current.skill, []), learner, current.skill,
                                   course.skill(current.skill).title))
                continue
            text, intended = compose_answer(learner, current.skill, current.item, current.instance, course)
            trace.attempts.append(Attempt(current.skill, current.item.id, learner.known.get(current.skill, False),
                                          intended, None, trace.turns + 1))
            current.attempted = True
            send(text, answer=True)
    except _Stopped:
        pass  # the tutor raised; the error is in trace.errors
    trace.complete = trace.complete or (not trace.errors and driver.complete(learner_id))
    return trace
