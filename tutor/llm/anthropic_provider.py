"""Claude through the official `anthropic` SDK.

- Learner-facing text (explanations, answers, hints) is streamed: each text delta goes to `on_text`.
- Prompt caching: `cache_control: {"type": "ephemeral"}` marks the end of the stable prefix. The system
  block holds the tutor rules plus the skill context (one breakpoint, shared by explanations, answers and
  hints of a skill); the passages block opens the user turn (a second breakpoint); the learner-specific
  request comes last, uncached.
- Retries are ours, not the SDK's (built with `max_retries=0`): the SDK waits exactly the server's `retry-after`,
  however long, so learners rate-limited together would all come back together. Up to
  `Settings.anthropic_max_retries` retries on 408/409/429/5xx/529 and connection failures, each after a
  full-jitter wait (`tutor.llm.limits.retry_delay`), and all within the turn's deadline (`bounded`): each
  request's timeout is the smaller of `Settings.anthropic_timeout` and the time the turn has left, a stream is
  cut off when the turn's time runs out, and no retry starts that could not finish in time.
- A 401/403 means the key is rejected: `KeyRejectedError(first=True)` once, then no request is sent with that
  key again by this process (`KeyRejectedError(first=False)` at once), so the learner is told once.
- A stream that ends without its final event (`message_stop`) is a failure, not a short answer.
- Free-response grading is structured output through a forced tool call whose input schema is
  `FreeResponseGrade`'s JSON schema; the tool input is validated with pydantic.
Every failure surfaces as `ProviderError` (with the SDK error as `__cause__`).
"""

from __future__ import annotations

import copy
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeGuard, TypeVar

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
from tutor.llm.limits import KeyRejectedError, TurnDeadline, retry_delay
from tutor.llm.prompts import PromptSet
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


T = TypeVar("T")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def retry_after(exc: BaseException) -> float | None:
    """The `retry-after` (seconds) of a failed response, when the server sent one."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if isinstance(response, httpx2.Response) else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: not worth parsing for waits this short
        return None


def is_retryable(exc: BaseException) -> bool:
    """Whether the same request may succeed if sent again."""
    if isinstance(exc, anthropic.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError)


def is_key_rejected(exc: BaseException) -> TypeGuard[anthropic.APIStatusError]:
    """A 401 (unknown key) or 403 (key without permission): retrying with the same key cannot help."""
    return isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError)


class _KeyState:
    """Whether the API key was rejected; shared by every turn's copy of the provider."""

    def __init__(self) -> None:
        self.rejected: str | None = None
        self.lock = threading.Lock()


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
        prompts: PromptSet | None = None,
    ) -> None:
        self.model = model
        self._prompts = prompts or PromptSet()
        self.fast_model = fast_model
        self.name = f"anthropic:{model}"
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._timeout = timeout
        self._max_retries = max_retries
        self._deadline = TurnDeadline.unlimited()
        self._key = _KeyState()
        self._rng = random.Random()
        self._sleep: Callable[[float], None] = time.sleep

    def bounded(self, deadline: TurnDeadline) -> AnthropicProvider:
        """This provider (same client and connection pool, same key state) with every call drawing on `deadline`."""
        bounded = copy.copy(self)
        bounded._deadline = deadline
        return bounded

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
            prompts=PromptSet(settings.prompt_set),
        )

    # ------------------------------------------------------------ prompt pieces

    def _system(self, skill: Skill) -> list[TextBlockParam]:
        context = self._prompts.render(
            "skill_context",
            skill_id=skill.id,
            skill_title=skill.title,
            objectives="\n".join(f"- {o}" for o in skill.objectives),
        )
        return [
            {"type": "text", "text": self._prompts.render("system")},
            {"type": "text", "text": context, "cache_control": _CACHE},
        ]

    def _passages(self, passages: Sequence[PassageLike]) -> TextBlockParam:
        rendered = "\n".join(
            self._prompts.render(
                "passage",
                number=number,
                style=passage.style or "",
                source=passage.source,
                section=" > ".join(passage.heading_path),
                text=passage.text.strip(),
            )
            for number, passage in enumerate(passages, start=1)
        )
        return {"type": "text", "text": self._prompts.render("passages", passages=rendered), "cache_control": _CACHE}

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

    def _attempts(self, model: str, request: Callable[[float], T], shown: Callable[[], bool] = lambda: False) -> T:
        """`request(timeout)`, retried with jittered waits while it may succeed and the turn has time.

        No retry once text has reached the learner (`shown()`): it cannot be taken back."""
        if self._key.rejected is not None:
            raise KeyRejectedError(self._key.rejected, first=False)
        attempt = 0
        while True:
            left = self._deadline.check(f"calling {model}")
            try:
                return request(min(self._timeout, left))
            except _SDK_ERRORS as exc:
                if is_key_rejected(exc):
                    raise self._rejected(exc) from exc
                if attempt >= self._max_retries or not is_retryable(exc) or shown():
                    raise ProviderError(f"{model}: {_describe(exc)}") from exc
                wait = retry_delay(attempt, retry_after(exc), self._rng)
                if wait >= self._deadline.remaining():
                    raise ProviderError(
                        f"{model}: {_describe(exc)}; no time left in the turn to retry after {wait:.1f} s"
                    ) from exc
                self._sleep(wait)
                attempt += 1

    def _rejected(self, exc: anthropic.APIStatusError) -> KeyRejectedError:
        with self._key.lock:
            first = self._key.rejected is None
            if first:
                self._key.rejected = (
                    f"the Anthropic API key was rejected (HTTP {exc.status_code}: {exc.message}); set a valid "
                    "ANTHROPIC_API_KEY and restart the tutor; until then it answers offline"
                )
        assert self._key.rejected is not None
        return KeyRejectedError(self._key.rejected, first=first)

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
        shown = False

        def attempt(timeout: float) -> Message:
            nonlocal shown
            finished = False
            with self._client.messages.stream(
                model=model, max_tokens=max_tokens, system=system, messages=messages, timeout=timeout
            ) as stream:
                for event in stream:
                    if event.type == "text" and event.text and on_text is not None:
                        shown = True
                        on_text(event.text)
                    finished = finished or event.type == "message_stop"
                    self._deadline.check(f"{model} finished its answer")
                if not finished:  # the connection closed early: what came may be only part of the answer
                    raise ProviderError(f"{model}: the stream ended before its final event (message_stop)")
                return stream.get_final_message()

        message = self._attempts(model, attempt, lambda: shown)
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
            self._prompts.render(
                "explain",
                course_title=course_title,
                style=style.replace("_", " "),
                style_guide=self._prompts.render(f"styles/{style}" if style in _STYLES else "styles/general"),
            )
        ]
        avoid = [str(s).replace("_", " ") for s in avoid_styles if str(s) != style]
        if avoid:
            request.append(self._prompts.render("explain_avoid", avoid_styles=", ".join(avoid)))
        if misconceptions:
            request.append(self._prompts.render("explain_misconceptions", misconceptions=", ".join(misconceptions)))
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
                {"type": "text", "text": self._prompts.render("answer_question", question=as_data(question))},
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
        request = [self._prompts.render("hint", level=level, item_prompt=item_prompt)]
        if authored_hints:
            numbered = "\n".join(f"{n}. {h}" for n, h in enumerate(authored_hints, start=1))
            request.append(self._prompts.render("hint_authored", level=level, authored_hints=numbered))
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
            "description": self._prompts.render("grade_tool"),
            "input_schema": FreeResponseGrade.model_json_schema(),
        }
        request = self._prompts.render(
            "grade_free_response",
            prompt=item.prompt,
            reference=item.reference,
            rubric=rubric,
            pass_points=needed,
            examples=labelled,
            answer=as_data(answer),
        )
        message: Message = self._attempts(self.fast_model, lambda timeout: self._client.messages.create(
            model=self.fast_model,
            max_tokens=MAX_TOKENS_GRADE,
            system=[{"type": "text", "text": self._prompts.render("grader"), "cache_control": _CACHE}],
            tools=[tool],
            tool_choice={"type": "tool", "name": GRADE_TOOL},
            messages=[{"role": "user", "content": [{"type": "text", "text": request}]}],
            timeout=timeout,
        ))
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
