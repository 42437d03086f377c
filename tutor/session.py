"""The one entry point both front ends call: start or resume a learner's session, send a message, read state.

Each learner and course is one graph thread (`<learner>:<course>`), checkpointed in SQLite, so a learner
can close the app and continue exactly where they were, even mid-question.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.config import get_stream_writer
from langgraph.types import Command

from tutor import xapi
from tutor.course.loader import discover_courses, load_course
from tutor.course.models import Course
from tutor.course.version import course_version, model_version
from tutor.graph import progress as prog
from tutor.graph.builder import compile_graph
from tutor.graph.state import Context, PassageSource, TutorState
from tutor.llm import build_provider, day_start, fallback_notice, spending_limited
from tutor.llm.base import Provider
from tutor.records import Records, Usage
from tutor.settings import Settings

log = logging.getLogger(__name__)

_LEARNER_ID = re.compile(r"^[^\W_][\w .@-]{0,63}$")
RECURSION_LIMIT = 60


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
        if courses is None:
            folders = discover_courses(settings.content_dir)
            courses = [load_course(p) for p in folders]
            self.course_versions = {c.id: course_version(p) for c, p in zip(courses, folders, strict=True)}
        else:
            self.course_versions = {c.id: model_version(c) for c in courses}
        self.courses: dict[str, Course] = {c.id: c for c in courses}
        self._xapi = xapi.connect(settings, self.records, self.courses, self.course_versions, clock=clock)
        self._conn = sqlite3.connect(str(settings.checkpoint_path), check_same_thread=False)
        self.checkpointer = SqliteSaver(self._conn)
        self.graph = compile_graph(self.checkpointer)
        self.provider_name = self._provider_factory(lambda m, e: None).name

    @property
    def offline(self) -> bool:
        return self.provider_name == "offline"

    def course(self, course_id: str) -> Course:
        if course_id not in self.courses:
            raise KeyError(f"no course {course_id!r}; available: {', '.join(sorted(self.courses))}")
        return self.courses[course_id]

    def _config(self, learner_id: str, course_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": f"{learner_id}:{course_id}"}, "recursion_limit": RECURSION_LIMIT}

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
            records=self.records,
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
            durability="sync",  # the checkpoint is on disk before the learner sees the reply
        )

    def start(self, learner_id: str, course_id: str) -> Iterator[dict[str, Any]]:
        """Start the course for a learner, or do nothing when there is a session to resume."""
        learner_id = normalise_learner_id(learner_id)
        snapshot = self.graph.get_state(self._config(learner_id, course_id))
        if snapshot.values and snapshot.values.get("complete") and snapshot.next:
            # a finished course: look for a review that has fallen due since (silent when none)
            yield from self._run(learner_id, course_id, Command(resume=""))
            return
        if snapshot.values and (snapshot.next or snapshot.values.get("complete")):
            return
        initial: TutorState = {"learner_id": learner_id, "course_id": course_id, "turn": 0}
        yield from self._run(learner_id, course_id, initial)

    def send(self, learner_id: str, course_id: str, text: str, *, answer: bool = False) -> Iterator[dict[str, Any]]:
        """Deliver a learner message to the pending question and stream the tutor's reply.

        `answer=True` (the page's answer box) means the text is an answer even if it reads like a question."""
        learner_id = normalise_learner_id(learner_id)
        text = text.strip()
        if not text:
            return
        snapshot = self.graph.get_state(self._config(learner_id, course_id))
        if not snapshot.next:
            yield from self.start(learner_id, course_id)
            return
        resume: str | dict[str, Any] = {"text": text[:4000], "answer": True} if answer else text[:4000]
        yield from self._run(learner_id, course_id, Command(resume=resume))

    def view(self, learner_id: str, course_id: str) -> SessionView:
        learner_id = normalise_learner_id(learner_id)
        course = self.course(course_id)
        values: dict[str, Any] = dict(
            self.graph.get_state(self._config(learner_id, course_id)).values or {}
        )
        progress = prog.initial(course, values.get("progress") or {})
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
        self._conn.close()
        self.records.close()
