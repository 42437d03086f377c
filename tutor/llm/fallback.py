"""A provider that never leaves a turn unfinished: on any failure of the primary, the offline provider answers.

Partial streams: if the primary had already streamed some text to the learner before failing, that text
cannot be taken back. The wrapper then streams a one-line notice (prompts/offline/fallback_separator.md)
between blank lines, followed by the offline provider's complete text. The returned result is the offline
one alone (its text, citations and usage), so what is recorded is a complete, cited explanation.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import anthropic
import httpx2
from pydantic import ValidationError

from tutor.course.models import Example, FreeResponseItem, Skill
from tutor.llm.base import (
    Explanation,
    FallbackCallback,
    FreeResponseGrade,
    PassageLike,
    Provider,
    ProviderError,
    TextCallback,
    Usage,
)
from tutor.llm.prompts import render

log = logging.getLogger(__name__)

FALLBACK_ERRORS: tuple[type[Exception], ...] = (
    ProviderError,
    anthropic.AnthropicError,
    httpx2.HTTPError,
    ValidationError,
    TimeoutError,
    ConnectionError,
)
"""Failures that make a call fall back to the offline provider. Anything else is a bug and propagates."""

T = TypeVar("T")

class _Relay:
    """Forwards streamed text to the caller and remembers whether any reached the learner."""

    def __init__(self, on_text: TextCallback | None) -> None:
        self._on_text = on_text
        self.emitted = False

    def _send(self, chunk: str) -> None:
        self.emitted = True
        assert self._on_text is not None
        self._on_text(chunk)

    @property
    def callback(self) -> TextCallback | None:
        return self._send if self._on_text is not None else None

    def for_fallback(self) -> TextCallback | None:
        """The callback for the fallback call, after a notice if partial text was already shown."""
        if self._on_text is not None and self.emitted:
            self._on_text("\n\n" + render("offline/fallback_separator") + "\n\n")
        return self._on_text


class FallbackProvider:
    """Calls `primary`; when it fails, reports `(method, error)` to `on_fallback` and asks `fallback`."""

    def __init__(self, primary: Provider, fallback: Provider, *, on_fallback: FallbackCallback | None = None) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        self._on_fallback = on_fallback
        self._refusal: ProviderError | None = None

    def offline_because(self, refusal: ProviderError) -> FallbackProvider:
        """This provider with every call answered by the fallback, `refusal` reported as the reason."""
        refused = copy.copy(self)
        refused._refusal = refusal
        return refused

    def _guard(
        self, method: str, call: Callable[[Provider, TextCallback | None], T], on_text: TextCallback | None = None
    ) -> T:
        """`call(provider, on_text)` on the primary; on failure, report it and make the same call on the fallback."""
        relay = _Relay(on_text)
        try:
            if self._refusal is not None:
                raise self._refusal
            return call(self.primary, relay.callback)
        except FALLBACK_ERRORS as exc:
            if self._on_fallback is not None:
                log.info("%s.%s failed, the offline provider answers instead: %s", self.name, method, exc)
                self._on_fallback(method, exc)
            else:
                log.warning("%s.%s failed, the offline provider answers instead: %s", self.name, method, exc)
            return call(self.fallback, relay.for_fallback())

    def explain(
        self,
        *,
        course_title: str,
        skill: Skill,
        passages: Sequence[PassageLike],
        style: str,
        avoid_styles: Sequence[str] = (),
        misconceptions: Sequence[str] = (),
        on_text: TextCallback | None = None,
    ) -> Explanation:
        return self._guard(
            "explain",
            lambda provider, text: provider.explain(
                course_title=course_title, skill=skill, passages=passages, style=style,
                avoid_styles=avoid_styles, misconceptions=misconceptions, on_text=text,
            ),
            on_text,
        )

    def answer_question(
        self,
        *,
        skill: Skill,
        question: str,
        passages: Sequence[PassageLike],
        on_text: TextCallback | None = None,
    ) -> Explanation:
        return self._guard(
            "answer_question",
            lambda provider, text: provider.answer_question(
                skill=skill, question=question, passages=passages, on_text=text
            ),
            on_text,
        )

    def grade_free_response(
        self, *, item: FreeResponseItem, answer: str, examples: Sequence[Example] = ()
    ) -> tuple[FreeResponseGrade, Usage]:
        return self._guard(
            "grade_free_response",
            lambda provider, _text: provider.grade_free_response(item=item, answer=answer, examples=examples),
        )

    def hint(
        self,
        *,
        skill: Skill,
        item_prompt: str,
        authored_hints: Sequence[str],
        level: int,
        on_text: TextCallback | None = None,
    ) -> tuple[str, Usage]:
        return self._guard(
            "hint",
            lambda provider, text: provider.hint(
                skill=skill, item_prompt=item_prompt, authored_hints=authored_hints, level=level, on_text=text
            ),
            on_text,
        )
