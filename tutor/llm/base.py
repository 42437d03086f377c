"""The provider interface: the few things the tutor asks a language model (or its offline stand-in) to do.

Providers write learner-facing text and grade free text into a validated structure. They never decide
mastery or routing: the gate reads graded attempts only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tutor.course.models import Example, FreeResponseItem, Skill

TextCallback = Callable[[str], None]
"""Receives learner-facing text as it is produced, chunk by chunk (streaming)."""

ANSWER_STYLE = "answer"
"""`Explanation.style` of an answer to a learner's question."""

FallbackCallback = Callable[[str, Exception], None]
"""Told `(method name, error)` when a provider call failed and the offline provider answered instead."""


class PassageLike(Protocol):
    """What a provider needs of a retrieved passage (retrieval's `Passage` satisfies this structurally)."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def heading_path(self) -> tuple[str, ...]: ...

    @property
    def style(self) -> str | None: ...


@dataclass(frozen=True)
class Usage:
    """Tokens spent on one provider call (all zero for the offline provider)."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Explanation:
    """Learner-facing text grounded in passages.

    `style` is the style of the material actually used; `cited` holds the ids of the passages cited; `more` is
    material held back for the learner to open on request (the other common mistakes of a section whose part on
    the learner's own mistake was shown).
    """

    text: str
    style: str
    cited: tuple[str, ...]
    usage: Usage
    more: str = ""


class FreeResponseGrade(BaseModel):
    """A free-response answer graded against an item's rubric (the structured output of grading)."""

    model_config = ConfigDict(extra="forbid")

    points_met: list[int] = Field(description="0-based indexes of the rubric points the answer meets")
    correct: bool = Field(description="true when the answer meets enough rubric points to pass")
    feedback: str = Field(min_length=1, description="1-3 sentences to the learner: what was good, what is missing")
    confidence: float | None = Field(
        None, ge=0, le=1,
        description="probability (0 to 1) that a careful teacher would mark the answer correct; near 0.5 when unsure",
    )
    reasons: list[str] = Field(default_factory=list, description="why the answer got this grade (for reviewers)")

    @field_validator("points_met")
    @classmethod
    def _distinct_sorted(cls, value: list[int]) -> list[int]:
        if any(index < 0 for index in value):
            raise ValueError("rubric point indexes start at 0")
        return sorted(set(value))


class ProviderError(Exception):
    """A provider call failed or returned something unusable; the fallback provider takes over."""


class Provider(Protocol):
    """The tutor's language-model interface. Every method returns a complete result or raises ProviderError."""

    @property
    def name(self) -> str:
        """Shown to the learner: "offline" or "anthropic:<model>"."""
        ...

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
        """Explain `skill` in `style` from `passages`; for a re-explanation pass the styles already used
        in `avoid_styles` and the misconception tags to target in `misconceptions`."""
        ...

    def answer_question(
        self,
        *,
        skill: Skill,
        question: str,
        passages: Sequence[PassageLike],
        on_text: TextCallback | None = None,
    ) -> Explanation:
        """Answer a learner's question from `passages` only, citing them, or say they don't cover it."""
        ...

    def grade_free_response(
        self, *, item: FreeResponseItem, answer: str, examples: Sequence[Example] = ()
    ) -> tuple[FreeResponseGrade, Usage]:
        """Grade `answer` against the item's rubric, model answer and labelled `examples` (the item's own and
        answers people reviewed), with `confidence`, the probability that the answer is correct."""
        ...

    def hint(
        self,
        *,
        skill: Skill,
        item_prompt: str,
        authored_hints: Sequence[str],
        level: int,
        on_text: TextCallback | None = None,
    ) -> tuple[str, Usage]:
        """A hint for the item at `level` (1 = gentlest). Never reveals the answer: no answer key is given."""
        ...


def required_points(item: FreeResponseItem) -> int:
    """Rubric points needed to pass: `pass_points`, or all points but one (at least 1, at most all)."""
    total = len(item.rubric)
    wanted = item.pass_points if item.pass_points is not None else total - 1
    return max(1, min(wanted, total))
