"""A scripted stand-in for tutor.session.Tutor, for page tests that need exact control of what is shown.

It has the Tutor's public surface (courses, offline, provider_name, settings, store, records, start, send, view);
`view` returns the real `SessionView`, so a page test breaks when the view it renders changes.
and keeps one transcript per learner and course, like the real one. Items are real items of the course, shown
through their public payload only; `send` grades multiple-choice answers against the real key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.course.models import Course, Item, MultipleChoiceItem, NumericItem
from tutor.course.problems import ContentError
from tutor.course.version import model_version
from tutor.graph.progress import SkillView
from tutor.records import Records
from tutor.session import SessionView, Tutor
from tutor.settings import Settings


def public(item: Item) -> dict[str, Any]:
    payload: dict[str, Any] = {"item_id": item.id, "kind": item.kind, "form": item.form, "prompt": item.prompt}
    if isinstance(item, MultipleChoiceItem):
        payload["choices"] = [c.text for c in item.choices]
    if isinstance(item, NumericItem) and item.units:
        payload["units"] = item.units
    return payload


CITATION = {"id": "c1", "source": "meaning.md", "heading": "What a fraction is",
            "text": "A fraction names equal parts of one whole."}


@dataclass
class _Session:
    messages: list[dict[str, Any]]
    queue: list[Item]
    pending: Item | None = None
    decision: dict[str, Any] | None = None
    complete: bool = False


class FakeTutor:
    def __init__(self, settings: Settings, course: Course, items: list[Item], *, offline: bool = True) -> None:
        self.settings = settings
        self.courses = {course.id: course}
        self.broken_courses: dict[Path, ContentError] = {}  # as Tutor: course folders that do not load
        self.offline = offline
        self.provider_name = "offline" if offline else "anthropic:claude-test"
        self.records = Records(settings.resolved_database_url)
        self.course_versions = {course.id: model_version(course)}
        self.store: object = object()
        self.items = items
        self.sessions: dict[tuple[str, str], _Session] = {}
        self.sent: list[tuple[str, str, str]] = []
        self.starts = 0

    # ------------------------------------------------------------ the Tutor API

    new_course_folders = Tutor.new_course_folders  # the real ones: they only read courses and settings
    add_course = Tutor.add_course

    def course(self, course_id: str) -> Course:
        return self.courses[course_id]

    def clock(self) -> datetime:
        return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def start(self, learner_id: str, course_id: str) -> Iterator[dict[str, Any]]:
        if (learner_id, course_id) in self.sessions:
            return
        self.starts += 1
        session = _Session(messages=[], queue=list(self.items))
        self.sessions[(learner_id, course_id)] = session
        text = "A **fraction** names equal parts of one whole."
        for chunk in ("A **fraction** names ", "equal parts of one whole."):
            yield {"type": "text", "text": chunk}
        yield from self._add(session, {"role": "tutor", "kind": "explanation", "text": text, "skill": "meaning",
                                       "style": "definition", "citations": [CITATION]}, streamed=True)
        yield from self._ask(session)

    def send(
        self, learner_id: str, course_id: str, text: str, question_id: str | None = None, *, answer: bool = False
    ) -> Iterator[dict[str, Any]]:
        self.sent.append((learner_id, course_id, text))
        session = self.sessions[(learner_id, course_id)]
        session.messages.append({"role": "learner", "kind": "answer", "text": text})
        if text == "hint":
            yield from self._add(session, {"role": "tutor", "kind": "hint", "text": "Count the equal parts."})
            return
        item = session.pending
        assert item is not None
        correct = isinstance(item, MultipleChoiceItem) and any(c.correct and c.text == text for c in item.choices)
        feedback = "✅ Correct." if correct else "❌ Not quite."
        yield from self._add(session, {"role": "tutor", "kind": "feedback", "text": feedback, "correct": correct})
        session.decision = {"status": "continue", "p_known": 0.4, "misconceptions": [],
                            "reasons": ["2 more correct answers on new questions."]}
        yield from self._ask(session)

    def view(self, learner_id: str, course_id: str) -> SessionView:
        course = self.courses[course_id]
        session = self.sessions.get((learner_id, course_id))
        skills = [
            SkillView(s.id, s.title, "in_progress" if i == 0 and session else ("available" if i == 0 else "locked"),
                      0.4 if i == 0 and session and session.decision else 0.2, tuple(s.prerequisites))
            for i, s in enumerate(course.skills)
        ]
        return SessionView(
            learner_id=learner_id,
            course=course,
            messages=list(session.messages) if session else [],
            pending=public(session.pending) if session and session.pending else None,
            skill_id=course.skills[0].id if session else None,
            decision=session.decision if session else None,
            skill_map=skills,
            complete=bool(session and session.complete),
            started=session is not None,
            provider=self.provider_name,
        )

    # ------------------------------------------------------------ helpers

    def _add(self, session: _Session, message: dict[str, Any], streamed: bool = False) -> Iterator[dict[str, Any]]:
        session.messages.append(message)
        yield {"type": "message", "message": message, "streamed": streamed}

    def _ask(self, session: _Session) -> Iterator[dict[str, Any]]:
        if not session.queue:
            session.pending = None
            session.complete = True
            yield from self._add(session, {"role": "tutor", "kind": "complete", "text": "You mastered it all."})
            return
        session.pending = session.queue.pop(0)
        payload = public(session.pending)
        yield from self._add(session, {"role": "tutor", "kind": "item", "text": payload["prompt"], "item": payload})


def item_of_kind(course: Course, kind: str) -> Item:
    for items in course.items.values():
        for item in items:
            if item.kind == kind:
                return item
    raise LookupError(f"course {course.id} has no {kind} item")
