"""The one entry point both front ends call: start or resume a learner's session, send a message, read state.

Each learner and course is one graph thread (`<learner>:<course>`), checkpointed (SQLite, or PostgreSQL with the
ledger), so a learner can close the app and continue where they were, even mid-question. The checkpoint holds only
the conversation: the evidence is the ledger (tutor.records), written before any reply. When the checkpoint is
missing, unreadable or behind the ledger, the session is rebuilt from the ledger: the learner's mastered skills,
current skill and the question they were asked (the same one, not a new one), with a short notice.

A turn holds the learner's turn lock for the course (across threads and processes). Answers carry the id of the
question they answer: an answer to a question that is no longer open is refused and the open one shown again; the
same answer sent again (a retry) gets its original feedback.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.types import Command

from tutor import xapi
from tutor.checkpoints import open_checkpointer
from tutor.course.loader import discover_courses, load_course, load_courses
from tutor.course.models import Course
from tutor.course.problems import ContentError
from tutor.course.templates import instantiate
from tutor.course.version import course_version, model_version
from tutor.graph import nodes
from tutor.graph import progress as prog
from tutor.graph.builder import compile_graph
from tutor.graph.state import Context, Message, PassageSource, TutorState
from tutor.graph.turn_ledger import TurnLedger
from tutor.llm import build_provider, day_start, fallback_notice, spending_limited
from tutor.llm.base import Provider
from tutor.records import QuestionRow, Records, Usage
from tutor.settings import Settings

log = logging.getLogger(__name__)

_LEARNER_ID = re.compile(r"^[^\W_][\w .@-]{0,63}$")
RECURSION_LIMIT = 60
MAX_MESSAGE = 4000

REBUILT = ("Your session was restored from your saved answers; the conversation before this point could not be "
           "shown. Your progress is kept.")
STALE = "That answer was for a question that is no longer open, so it was not recorded. Here is the current question:"


def _thread_id(learner_id: str, course_id: str) -> str:
    return f"{learner_id}:{course_id}"


class LearnerIdError(ValueError):
    """A learner id that cannot be used."""


def normalise_learner_id(raw: str) -> str:
    """A learner id: an account's internal id, or a name of 1-64 letters (any script), digits, spaces, `_ . @ -`.

    Case-insensitive (stored case-folded, NFKC-normalised), so "José" and "李雷" are learner ids too.
    """
    value = " ".join(unicodedata.normalize("NFKC", raw).split()).casefold()
    if not _LEARNER_ID.match(value):
        raise LearnerIdError(
            "A learner name must be 1-64 characters: letters (any script), digits, spaces, '_', '.', '@' or '-', "
            "starting with a letter or digit."
        )
    return value


@dataclass(frozen=True)
class SessionView:
    """Everything a front end renders for one learner and course."""

    learner_id: str
    course: Course
    messages: list[dict[str, Any]]
    pending: dict[str, Any] | None
    skill_id: str | None
    decision: dict[str, Any] | None
    skill_map: list[prog.SkillView]
    complete: bool
    started: bool
    provider: str

    @property
    def mastered_share(self) -> float:
        return sum(s.status in ("mastered", "review_due") for s in self.skill_map) / max(1, len(self.skill_map))


class Tutor:
    """Owns the compiled graph, the checkpointer, the learner records and the passage store."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: PassageSource | None = None,
        records: Records | None = None,
        provider_factory: Callable[[Callable[[str, Exception], None]], Provider] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        courses: list[Course] | None = None,
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.records = records or Records(settings.resolved_database_url)
        if store is None:
            from tutor.retrieval import open_store

            store = open_store(settings)
        self.store = store
        self.clock = clock
        self._provider_factory = provider_factory or (lambda on_fallback: build_provider(settings,
                                                                                         on_fallback=on_fallback))
        self.broken_courses: dict[Path, ContentError] = {}  # course folders left out: they do not validate
        if courses is None:
            loaded, self.broken_courses = load_courses(settings.content_dir)
            courses = [c for _, c in loaded]
            self.course_versions = {c.id: course_version(p) for p, c in loaded}
        else:
            self.course_versions = {c.id: model_version(c) for c in courses}
        self.courses: dict[str, Course] = {c.id: c for c in courses}
        self._xapi = xapi.connect(settings, self.records, self.courses, self.course_versions, clock=clock)
        self._checkpoints = open_checkpointer(settings, self.records)
        self.checkpointer = self._checkpoints.saver
        self.graph = compile_graph(self.checkpointer)
        self.provider_name = self._provider_factory(lambda m, e: None).name

    @property
    def offline(self) -> bool:
        return self.provider_name == "offline"

    def add_course(self, folder: Path) -> Course:
        """Load a course folder added while the tutor runs (raises ContentError when it does not validate)."""
        try:
            course = load_course(folder)
        except ContentError as exc:
            self.broken_courses[folder] = exc
            raise
        self.broken_courses.pop(folder, None)
        self.courses[course.id] = course
        self.course_versions[course.id] = course_version(folder)
        return course

    def new_course_folders(self) -> list[Path]:
        """Course folders under the content dir whose course is not loaded yet (added since the start)."""
        loaded = {Path(c.path).resolve() for c in self.courses.values()}
        return [p for p in discover_courses(self.settings.content_dir) if p.resolve() not in loaded]

    def course(self, course_id: str) -> Course:
        if course_id not in self.courses:
            raise KeyError(f"no course {course_id!r}; available: {', '.join(sorted(self.courses))}")
        return self.courses[course_id]

    def _config(self, learner_id: str, course_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": _thread_id(learner_id, course_id)}, "recursion_limit": RECURSION_LIMIT}

    @contextlib.contextmanager
    def _turn(self, learner_id: str, course_id: str) -> Iterator[None]:
        """Hold the learner's turn in the course: the ledger's turn lock (threads and processes), within which the
        checkpoint read that settles the session is handed to the graph run rather than read twice."""
        with self.records.turn_lock(learner_id, course_id), self._checkpoints.turn(_thread_id(learner_id, course_id)):
            yield

    def _context(self, learner_id: str, course_id: str) -> Context:
        told: set[str] = set()  # each notice once per turn

        def on_fallback(method: str, exc: Exception) -> None:
            reason = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.warning("LLM call %s failed for %s; answered offline (%s)", method, course_id, reason)
            self.records.add_usage(Usage(
                learner_id=learner_id, course_id=course_id, purpose=method, provider="fallback",
                model="offline", fallback_reason=reason, created_at=self.clock(),
            ))
            text = fallback_notice(exc)
            if text is None or text in told:
                return
            told.add(text)
            with contextlib.suppress(RuntimeError):  # outside a graph run there is no stream to tell
                get_stream_writer()({"type": "notice", "text": text})

        provider = spending_limited(
            self._provider_factory(on_fallback), limit=self.settings.daily_token_budget, who=learner_id,
            spent=lambda: self.records.tokens_spent(learner_id, since=day_start(self.clock())),
        )
        return Context(
            course=self.course(course_id),
            provider=provider,
            store=self.store,
            records=TurnLedger(self.records),
            clock=self.clock,
            max_remediations=self.settings.max_remediations,
            course_version=self.course_versions.get(course_id, ""),
        )

    def _run(self, learner_id: str, course_id: str, payload: Any) -> Iterator[dict[str, Any]]:
        yield from self.graph.stream(
            payload,
            self._config(learner_id, course_id),
            context=self._context(learner_id, course_id),
            stream_mode="custom",
            # The ledger is written (and committed) inside the nodes before any reply; the checkpoint, which
            # can be rebuilt from the ledger, is saved once when the turn ends.
            durability="exit",
        )

    def _values(self, learner_id: str, course_id: str) -> tuple[dict[str, Any], bool]:
        """The checkpointed state and whether the graph is waiting for the learner; ({}, False) if unreadable."""
        try:
            snapshot = self.graph.get_state(self._config(learner_id, course_id))
        except Exception:  # a damaged checkpoint is rebuilt from the ledger, never shown as a traceback
            log.exception("checkpoint of %s on %s unreadable; rebuilding from the ledger", learner_id, course_id)
            return {}, False
        return dict(snapshot.values or {}), bool(snapshot.next)

    def _settle(self, learner_id: str, course_id: str) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        """Make the checkpoint agree with the ledger: (the events of starting or rebuilding the session, if it
        did not; the checkpointed state after; whether the graph is waiting for the learner).

        Agreement: the graph waits on exactly the ledger's open question. In the usual turn it does, and the
        checkpoint is read once."""
        values, waiting = self._values(learner_id, course_id)
        open_question = self.records.open_question(learner_id, course_id)
        pending_id = (values.get("pending") or {}).get("question_id")
        if open_question is not None and waiting and pending_id == open_question.question_id:
            return [], values, waiting
        events = list(self._ensure(learner_id, course_id, values, waiting, open_question))
        values, waiting = self._values(learner_id, course_id)
        return events, values, waiting

    def _ensure(
        self, learner_id: str, course_id: str, values: dict[str, Any], waiting: bool,
        open_question: QuestionRow | None,
    ) -> Iterator[dict[str, Any]]:
        """Start or rebuild a session whose checkpoint (`values`, `waiting`) disagrees with the ledger, or
        look for a due review in a finished course."""
        if open_question is None and values.get("complete") and waiting:
            # a finished course: look for a review that has fallen due since (silent when none)
            yield from self._run(learner_id, course_id, Command(resume=""))
            return
        has_history = open_question is not None or bool(self.records.questions(course_id, learner_id))
        if not has_history:
            initial: TutorState = {"learner_id": learner_id, "course_id": course_id, "turn": 0}
            yield from self._run(learner_id, course_id, initial)
            return
        yield from self._rebuild(learner_id, course_id, values, open_question)

    def _rebuild(
        self, learner_id: str, course_id: str, old: dict[str, Any], open_question: QuestionRow | None
    ) -> Iterator[dict[str, Any]]:
        """Rebuild the session from the ledger: progress, explanations shown and the open question."""
        course = self.course(course_id)
        config = self._config(learner_id, course_id)
        history = self.records.history(course_id, learner_id)
        shown: dict[str, dict[str, list[str]]] = {}
        for row in self.records.explanations(course_id, learner_id):
            if row.purpose in ("explain", "remediate"):
                entry = shown.setdefault(row.skill_id, {"styles": [], "passages": []})
                entry["styles"].append(row.style)
                entry["passages"].extend(row.passages)
        notice: Message = {"role": "tutor", "kind": "notice", "text": REBUILT}
        values: dict[str, Any] = {
            "learner_id": learner_id, "course_id": course_id, "progress": prog.from_ledger(course, history),
            "shown": shown, "skipped": [], "hint_level": 0, "decision": None, "reexplain_skill": None,
            "reexplain": False, "complete": False, "avoid_form": None, "unread": False,
            "turn": len(self.records.questions(course_id, learner_id)),
            "messages": [*list(old.get("messages", []))[-40:], notice],
        }
        log.warning("rebuilding the session of %s on %s from the ledger", learner_id, course_id)
        with contextlib.suppress(Exception):  # a damaged thread is replaced; a missing one needs nothing
            self.checkpointer.delete_thread(config["configurable"]["thread_id"])
        yield {"type": "message", "message": notice, "streamed": False}
        if open_question is None:  # between questions: carry on from skill selection
            self.graph.update_state(config, values, as_node="review")
            yield from self._run(learner_id, course_id, None)
            return
        item = course.item(open_question.item_id)
        payload = {"question_id": open_question.question_id,
                   **nodes.public_item(item, instantiate(item, open_question.seed))}
        message: Message = {"role": "tutor", "kind": "item", "text": payload["prompt"],
                            "skill": open_question.skill_id, "item": payload}
        values.update({
            "skill_id": open_question.skill_id, "mode": open_question.mode, "return_to": open_question.return_to,
            "pending": payload, "messages": [*values["messages"], message],
            "instance": {"question_id": open_question.question_id, "item_id": item.id, "seed": open_question.seed},
        })
        self.graph.update_state(config, values, as_node="ask")
        yield {"type": "message", "message": message, "streamed": False}
        for _ in self._run(learner_id, course_id, None):  # reach the wait for the learner's answer
            pass

    def start(self, learner_id: str, course_id: str) -> Iterator[dict[str, Any]]:
        """Start the course for a learner, resume it, or rebuild it from the ledger (with a notice)."""
        learner_id = normalise_learner_id(learner_id)
        self.course(course_id)
        with self._turn(learner_id, course_id):
            started, values, waiting = self._settle(learner_id, course_id)
            yield from started
            if not started and values.get("complete") and waiting:
                # a finished course: look for a review that has fallen due since (silent when none)
                yield from self._run(learner_id, course_id, Command(resume=""))

    def send(
        self, learner_id: str, course_id: str, text: str, question_id: str | None = None, *, answer: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Deliver a learner message to the open question and stream the tutor's reply.

        `question_id` is the question the learner's page showed (front ends always send it). An answer to a
        question no longer open is refused and the open question shown again, unless it is the very answer
        already recorded for it (a retry), which gets its original feedback. `answer=True` (the page's answer
        box) means the text is an answer even if it reads like a question.
        """
        learner_id = normalise_learner_id(learner_id)
        self.course(course_id)
        text = text.strip()[:MAX_MESSAGE]
        if not text:
            return
        with self._turn(learner_id, course_id):
            started, values, _ = self._settle(learner_id, course_id)
            yield from started
            pending = values.get("pending") or {}
            if question_id is not None and question_id != pending.get("question_id"):
                yield from self._answer_elsewhere(question_id, text, pending, shown=bool(started))
                return
            if started and question_id is None:
                return  # the session was (re)started: the learner answers what they now see
            resume: str | dict[str, Any] = {"text": text, "answer": True} if answer else text
            yield from self._run(learner_id, course_id, Command(resume=resume))

    def _answer_elsewhere(
        self, question_id: str, text: str, pending: dict[str, Any], *, shown: bool
    ) -> Iterator[dict[str, Any]]:
        recorded = self.records.recorded(question_id)
        if recorded is not None and recorded.answer == text:
            message: Message = {"role": "tutor", "kind": "feedback", "text": recorded.feedback,
                                "skill": recorded.skill_id, "correct": recorded.correct,
                                "question_id": question_id}
            yield {"type": "message", "message": message, "streamed": False, "replay": True}
        else:
            yield {"type": "notice", "text": STALE}
        if pending and not shown:
            again: Message = {"role": "tutor", "kind": "item", "text": pending.get("prompt", ""), "item": pending}
            yield {"type": "message", "message": again, "streamed": False}

    def view(self, learner_id: str, course_id: str) -> SessionView:
        learner_id = normalise_learner_id(learner_id)
        course = self.course(course_id)
        values, _ = self._values(learner_id, course_id)
        progress = prog.from_ledger(course, self.records.history(course_id, learner_id))
        return SessionView(
            learner_id=learner_id,
            course=course,
            messages=list(values.get("messages", [])),
            pending=values.get("pending"),
            skill_id=values.get("skill_id"),
            decision=values.get("decision"),
            skill_map=prog.skill_map(course, progress, values.get("skill_id"), self.clock()),
            complete=bool(values.get("complete")),
            started=bool(values),
            provider=self.provider_name,
        )

    def close(self) -> None:
        if self._xapi is not None:
            self._xapi.stop()
        self._checkpoints.close()
        self.records.close()
