"""Claude through the official `anthropic` SDK.

- Learner-facing text (explanations, answers, hints) is streamed: each text delta goes to `on_text`.
- Prompt caching: `cache_control: {"type": "ephemeral"}` marks the end of the stable prefix. The system
  block holds the tutor rules plus the skill context (one breakpoint, shared by explanations, answers and
  hints of a skill); the passages block opens the user turn (a second breakpoint); the learner-specific
  request comes last, uncached.
- Retries with exponential backoff on 408/409/429/5xx/529 and connection errors, and the request timeout,
  are the SDK's own, set from `Settings.anthropic_max_retries` and `Settings.anthropic_timeout`.
- Free-response grading is structured output through a forced tool call whose input schema is
  `FreeResponseGrade`'s JSON schema; the tool input is validated with pydantic.
Every failure surfaces as `ProviderError` (with the SDK error as `__cause__`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import anthropic
import httpx2
from anthropic.types import (
    CacheControlEphemeralParam,
    Message,
    MessageParam,
    TextBlock,
    TextBlockParam,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types import Usage as SDKUsage
from pydantic import ValidationError

from tutor.course.models import Example, FreeResponseItem, Skill, Style
from tutor.llm.base import (
    ANSWER_STYLE,
    Explanation,
    FreeResponseGrade,
    PassageLike,
    ProviderError,
    TextCallback,
    Usage,
    required_points,
)
from tutor.llm.prompts import render
from tutor.settings import Settings

GRADE_TOOL = "record_grade"
MAX_TOKENS_EXPLAIN = 1024
MAX_TOKENS_ANSWER = 700
MAX_TOKENS_HINT = 200
MAX_TOKENS_GRADE = 600

_CACHE: CacheControlEphemeralParam = {"type": "ephemeral"}
_CITATION = re.compile(r"\[(\d{1,3})\]")
_STYLES = {style.value for style in Style}
_SDK_ERRORS = (anthropic.AnthropicError, httpx2.HTTPError, ValueError, RuntimeError)
"""What a call can raise: API and connection errors (after the SDK's retries), transport errors while a
stream is being read (httpx2.ReadTimeout, RemoteProtocolError), malformed JSON in a stream (ValueError) and
out-of-order stream events (RuntimeError)."""


def as_data(text: str) -> str:
    """Learner text made safe to place between tags: it cannot close `<learner_message>` early."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class AnthropicProvider:
    """Claude as the tutor's language model. Built by `build_provider`; needs network access."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        fast_model: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.fast_model = fast_model
        self.name = f"anthropic:{model}"
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicProvider:
        if settings.anthropic_api_key is None or not settings.anthropic_api_key.get_secret_value():
            raise ProviderError("no Anthropic API key: set ANTHROPIC_API_KEY, or use the offline provider")
        return cls(
            api_key=settings.anthropic_api_key.get_secret_value(),
            model=settings.anthropic_model,
            fast_model=settings.anthropic_fast_model,
            base_url=settings.anthropic_base_url,
            timeout=settings.anthropic_timeout,
            max_retries=settings.anthropic_max_retries,
        )

    # ------------------------------------------------------------ prompt pieces

    def _system(self, skill: Skill) -> list[TextBlockParam]:
        context = render(
            "skill_context",
            skill_id=skill.id,
            skill_title=skill.title,
            objectives="\n".join(f"- {o}" for o in skill.objectives),
        )
        return [
            {"type": "text", "text": render("system")},
            {"type": "text", "text": context, "cache_control": _CACHE},
        ]

    @staticmethod
    def _passages(passages: Sequence[PassageLike]) -> TextBlockParam:
        rendered = "\n".join(
            render(
                "passage",
                number=number,
                style=passage.style or "",
                source=passage.source,
                section=" > ".join(passage.heading_path),
                text=passage.text.strip(),
            )
            for number, passage in enumerate(passages, start=1)
        )
        return {"type": "text", "text": render("passages", passages=rendered), "cache_control": _CACHE}

    @staticmethod
    def _cited(text: str, passages: Sequence[PassageLike]) -> tuple[str, ...]:
        numbers = dict.fromkeys(int(n) for n in _CITATION.findall(text))
        return tuple(passages[n - 1].id for n in numbers if 1 <= n <= len(passages))

    @staticmethod
    def _usage(model: str, usage: SDKUsage) -> Usage:
        return Usage(
            provider="anthropic",
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
        )

    # ------------------------------------------------------------ calls

    def _stream(
        self,
        *,
        model: str,
        system: list[TextBlockParam],
        content: list[TextBlockParam],
        max_tokens: int,
        on_text: TextCallback | None,
    ) -> tuple[str, Usage]:
        messages: list[MessageParam] = [{"role": "user", "content": content}]
        try:
            with self._client.messages.stream(
                model=model, max_tokens=max_tokens, system=system, messages=messages
            ) as stream:
                for chunk in stream.text_stream:
                    if on_text is not None and chunk:
                        on_text(chunk)
                message = stream.get_final_message()
        except _SDK_ERRORS as exc:
            raise ProviderError(f"{model}: {_describe(exc)}") from exc
        text = "".join(block.text for block in message.content if isinstance(block, TextBlock)).strip()
        if message.stop_reason == "refusal":
            raise ProviderError(f"{model} declined to answer (stop_reason=refusal)")
        if not text:
            raise ProviderError(f"{model} returned no text (stop_reason={message.stop_reason})")
        return text, self._usage(model, message.usage)

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
        style = str(style)
        request = [
            render(
                "explain",
                course_title=course_title,
                style=style.replace("_", " "),
                style_guide=render(f"styles/{style}" if style in _STYLES else "styles/general"),
            )
        ]
        avoid = [str(s).replace("_", " ") for s in avoid_styles if str(s) != style]
        if avoid:
            request.append(render("explain_avoid", avoid_styles=", ".join(avoid)))
        if misconceptions:
            request.append(render("explain_misconceptions", misconceptions=", ".join(misconceptions)))
        text, usage = self._stream(
            model=self.model,
            system=self._system(skill),
            content=[self._passages(passages), {"type": "text", "text": "\n\n".join(request)}],
            max_tokens=MAX_TOKENS_EXPLAIN,
            on_text=on_text,
        )
        return Explanation(text=text, style=style, cited=self._cited(text, passages), usage=usage)

    def answer_question(
        self,
        *,
        skill: Skill,
        question: str,
        passages: Sequence[PassageLike],
        on_text: TextCallback | None = None,
    ) -> Explanation:
        text, usage = self._stream(
            model=self.model,
            system=self._system(skill),
            content=[
                self._passages(passages),
                {"type": "text", "text": render("answer_question", question=as_data(question))},
            ],
            max_tokens=MAX_TOKENS_ANSWER,
            on_text=on_text,
        )
        return Explanation(text=text, style=ANSWER_STYLE, cited=self._cited(text, passages), usage=usage)

    def hint(
        self,
        *,
        skill: Skill,
        item_prompt: str,
        authored_hints: Sequence[str],
        level: int,
        on_text: TextCallback | None = None,
    ) -> tuple[str, Usage]:
        level = max(level, 1)
        request = [render("hint", level=level, item_prompt=item_prompt)]
        if authored_hints:
            numbered = "\n".join(f"{n}. {h}" for n, h in enumerate(authored_hints, start=1))
            request.append(render("hint_authored", level=level, authored_hints=numbered))
        return self._stream(
            model=self.fast_model,
            system=self._system(skill),
            content=[{"type": "text", "text": "\n\n".join(request)}],
            max_tokens=MAX_TOKENS_HINT,
            on_text=on_text,
        )

    def grade_free_response(
        self, *, item: FreeResponseItem, answer: str, examples: Sequence[Example] = ()
    ) -> tuple[FreeResponseGrade, Usage]:
        needed = required_points(item)
        labelled = "\n".join(
            f"<example correct=\"{'yes' if e.correct else 'no'}\">{as_data(e.answer)}</example>" for e in examples
        ) or "(none yet)"
        rubric = "\n".join(
            f"{index}. {point.point}" + (f" (evidence such as: {', '.join(point.keywords)})" if point.keywords else "")
            for index, point in enumerate(item.rubric)
        )
        tool: ToolParam = {
            "name": GRADE_TOOL,
            "description": render("grade_tool"),
            "input_schema": FreeResponseGrade.model_json_schema(),
        }
        request = render(
            "grade_free_response",
            prompt=item.prompt,
            reference=item.reference,
            rubric=rubric,
            pass_points=needed,
            examples=labelled,
            answer=as_data(answer),
        )
        try:
            message: Message = self._client.messages.create(
                model=self.fast_model,
                max_tokens=MAX_TOKENS_GRADE,
                system=[{"type": "text", "text": render("grader"), "cache_control": _CACHE}],
                tools=[tool],
                tool_choice={"type": "tool", "name": GRADE_TOOL},
                messages=[{"role": "user", "content": [{"type": "text", "text": request}]}],
            )
        except _SDK_ERRORS as exc:
            raise ProviderError(f"{self.fast_model}: {_describe(exc)}") from exc
        call = next(
            (b for b in message.content if isinstance(b, ToolUseBlock) and b.name == GRADE_TOOL), None
        )
        if call is None:
            raise ProviderError(f"{self.fast_model} did not call {GRADE_TOOL} (stop_reason={message.stop_reason})")
        try:
            grade = FreeResponseGrade.model_validate(call.input)
        except ValidationError as exc:
            raise ProviderError(f"{self.fast_model} returned a malformed grade: {exc}") from exc
        if any(index >= len(item.rubric) for index in grade.points_met):
            raise ProviderError(
                f"{self.fast_model} cited rubric points {grade.points_met}, but the rubric has {len(item.rubric)}"
            )
        # Pass/fail follows the same transparent rule as offline grading: enough rubric points met. When the model's
        # confidence disagrees with that rule, the grade is unsure (0.5) and goes to a person.
        correct = len(grade.points_met) >= needed
        confidence = grade.confidence
        if confidence is not None and (confidence >= 0.5) != correct:
            confidence = 0.5
        reasons = [f"rubric points met: {len(grade.points_met)} of {len(item.rubric)} (Claude)", grade.feedback]
        update = {"correct": correct, "confidence": confidence, "reasons": reasons}
        return grade.model_copy(update=update), self._usage(self.fast_model, message.usage)
