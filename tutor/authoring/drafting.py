"""Drafting with Claude: parallel items, tagged distractors, hints, worked explanations, free-response examples
and passages in missing explanation styles, grounded in the skill's source passages and written to a draft.

Structured output through a forced tool call (`record_drafts`) whose input schema is built from the course
models. The tool input is validated element by element: valid items and passages are kept, invalid ones are
reported with the reason, hints that give the answer away are dropped, and ids are made unique in the course.
The draft is saved under `content/<course>/drafts/`; nothing reaches learners until an author approves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
import httpx2
from anthropic.types import ToolParam, ToolUseBlock
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tutor.authoring import drafts
from tutor.authoring.coverage import skill_coverage
from tutor.course.interchange.bank import existing_items, unique_id
from tutor.course.interchange.common import slug
from tutor.course.models import (
    Course,
    FreeResponseItem,
    Item,
    MultipleChoiceItem,
    NumericItem,
    ShortTextItem,
    SourceSection,
    Style,
)
from tutor.llm.prompts import render
from tutor.settings import Settings

DRAFT_TOOL = "record_drafts"
MAX_TOKENS = 8000
MAX_PASSAGES = 12
MAX_PASSAGE_CHARS = 1500
_ITEM: TypeAdapter[Item] = TypeAdapter(Item)


class DraftingError(RuntimeError):
    """Drafting could not run or returned nothing usable; the message says why."""


class DraftedPassage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    style: Style
    text: str = Field(min_length=1)
    cites: list[int] = Field(default_factory=list, description="numbers of the source passages used")


class DraftToolInput(BaseModel):
    """The tool's input schema (sent to Claude); validated item by item on the way back."""

    items: list[Item] = Field(default_factory=list)
    passages: list[DraftedPassage] = Field(default_factory=list)


@dataclass
class DraftResult:
    draft: drafts.Draft | None
    rejected: list[str] = field(default_factory=list)


def skill_passages(course: Course, skill_id: str) -> list[SourceSection]:
    return [s for s in course.sources if skill_id in s.skills][:MAX_PASSAGES]


def _cite_name(section: SourceSection) -> str:
    return f"{section.file} > {' > '.join(section.heading_path) or '(top)'}"


def build_prompt(course: Course, skill_id: str, n_items: int, want_passages: bool) -> tuple[str, list[str]]:
    """The user prompt and the names of the numbered source passages it holds."""
    skill = course.skill(skill_id)
    sections = skill_passages(course, skill_id)
    numbered = "\n\n".join(
        f"[{n}] ({s.style.value if s.style else 'unstyled'}) {_cite_name(s)}\n{s.text[:MAX_PASSAGE_CHARS]}"
        for n, s in enumerate(sections, 1))
    items = course.items.get(skill_id, ())
    existing = "\n".join(f"- form {i.form}, {i.kind}: {i.prompt}" for i in items) or "(none yet)"
    cover = skill_coverage(course, skill_id)
    forms = cover.items_per_form
    thin = sorted(forms, key=lambda f: forms[f])[0] if len(forms) >= 2 else ("B" if "A" in forms else "A")
    item_request = (f"{n_items} new item(s) of form {thin}, parallel to existing items of the other form(s), with "
                    "misconception-tagged distractors and feedback, graded hints and a worked explanation each"
                    + ("; labelled examples for free-response items" if cover.free_response_without_examples else ""))
    missing = [s.value for s in Style if s.value not in cover.styles]
    passage_request = (f"2 passages in explanation styles this skill lacks (choose from: {', '.join(missing)})"
                       if want_passages and missing else "no passages")
    prompt = render("draft", course_title=course.title, skill_id=skill.id, skill_title=skill.title,
                    objectives="\n".join(f"- {o}" for o in skill.objectives), passages=numbered or "(none)",
                    existing_items=existing, item_request=item_request, passage_request=passage_request)
    return prompt, [_cite_name(s) for s in sections]


def tool_schema() -> ToolParam:
    return {"name": DRAFT_TOOL, "description": render("draft_tool"),
            "input_schema": DraftToolInput.model_json_schema()}


def _answers(item: Item) -> list[str]:
    if isinstance(item, MultipleChoiceItem):
        return [c.text for c in item.choices if c.correct]
    if isinstance(item, NumericItem):
        return [str(item.answer)] if item.answer is not None else []
    if isinstance(item, ShortTextItem):
        return list(item.accepted)
    return []


def _item_checks(item: Item) -> list[str]:
    """Rules beyond the schema that make an item usable (the validator's rules for single items)."""
    if isinstance(item, MultipleChoiceItem):
        correct = sum(c.correct for c in item.choices)
        if correct != 1:
            return [f"{correct} choices are marked correct; exactly one is needed"]
        if len({c.text.strip().lower() for c in item.choices}) != len(item.choices):
            return ["two choices have the same text"]
    if isinstance(item, NumericItem) and item.answer is None:
        return ["a numeric item needs an answer"]
    if isinstance(item, ShortTextItem) and not item.accepted:
        return ["a short-text item needs accepted answers"]
    if isinstance(item, FreeResponseItem) and item.pass_points and item.pass_points > len(item.rubric):
        return ["pass_points is more than the rubric points"]
    return []


def validate_tool_input(raw: Any, cite_names: Sequence[str], taken: set[str], skill_id: str
                        ) -> tuple[list[dict[str, Any]], list[drafts.DraftPassage], list[str]]:
    """Valid items (as YAML-ready mappings with unique ids) and passages, and a reason for each one rejected."""
    rejected: list[str] = []
    if not isinstance(raw, dict):
        raise DraftingError(f"the {DRAFT_TOOL} input is not an object; nothing drafted")
    raw_items, raw_passages = raw.get("items", []), raw.get("passages", [])
    if not isinstance(raw_items, list) or not isinstance(raw_passages, list):
        raise DraftingError(f"the {DRAFT_TOOL} input's items and passages must be lists; nothing drafted")
    items: list[dict[str, Any]] = []
    for n, data in enumerate(raw_items, 1):
        try:
            item = _ITEM.validate_python({**data, "id": data.get("id") or "x"} if isinstance(data, dict) else data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][1:]) or "item"
            rejected.append(f"item {n}: {where}: {first['msg']}")
            continue
        problems = _item_checks(item)
        if problems:
            rejected.append(f"item {n}: {problems[0]}")
            continue
        answers = [a.strip().lower() for a in _answers(item) if len(a.strip()) > 1 or a.strip().isdigit()]
        hints = [h for h in item.hints if not any(a in h.lower() for a in answers)]
        if len(hints) != len(item.hints):
            rejected.append(f"item {n}: {len(item.hints) - len(hints)} hint(s) gave the answer away and were dropped")
        new_id = unique_id(f"{skill_id}-d-{slug(item.form)}", taken)
        items.append(item.model_copy(update={"id": new_id, "hints": hints}).model_dump(mode="json",
                                                                                          exclude_defaults=True)
                     | {"id": new_id, "kind": item.kind, "form": item.form, "prompt": item.prompt})
    passages: list[drafts.DraftPassage] = []
    for n, data in enumerate(raw_passages, 1):
        try:
            passage = DraftedPassage.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            rejected.append(f"passage {n}: {'.'.join(str(p) for p in first['loc']) or 'passage'}: {first['msg']}")
            continue
        bad = [c for c in passage.cites if not 1 <= c <= len(cite_names)]
        if bad or not passage.cites:
            rejected.append(f"passage {n}: cites {bad or 'nothing'}; every passage must cite the sources it uses")
            continue
        passages.append(drafts.DraftPassage(title=passage.title, style=passage.style, text=passage.text,
                                            cites=[cite_names[c - 1] for c in passage.cites]))
    return items, passages, rejected


def call_claude(settings: Settings, system: str, prompt: str) -> Any:
    """One forced tool call; returns the raw tool input. Raises DraftingError on any failure."""
    if settings.offline or settings.anthropic_api_key is None:
        raise DraftingError("drafting needs Claude: set ANTHROPIC_API_KEY (offline, use `tutor content coverage` "
                            "to see what is missing)")
    client = anthropic.Anthropic(api_key=settings.anthropic_api_key.get_secret_value(),
                                 base_url=settings.anthropic_base_url, timeout=max(settings.anthropic_timeout, 120.0),
                                 max_retries=settings.anthropic_max_retries)
    try:
        message = client.messages.create(
            model=settings.anthropic_model, max_tokens=MAX_TOKENS,
            system=[{"type": "text", "text": system}], tools=[tool_schema()],
            tool_choice={"type": "tool", "name": DRAFT_TOOL},
            messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        )
    except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
        raise DraftingError(f"{settings.anthropic_model}: {type(exc).__name__}: {exc}") from exc
    call = next((b for b in message.content if isinstance(b, ToolUseBlock) and b.name == DRAFT_TOOL), None)
    if call is None:
        raise DraftingError(f"{settings.anthropic_model} did not call {DRAFT_TOOL} "
                            f"(stop_reason={message.stop_reason}); nothing drafted")
    return call.input


def draft_skill(settings: Settings, course: Course, course_dir: Path, skill_id: str, n_items: int = 4,
                want_passages: bool = False, now: datetime | None = None) -> DraftResult:
    """Ask Claude for drafts for one skill and save the valid part as a pending draft."""
    course.skill(skill_id)  # KeyError for an unknown skill, checked by the caller
    prompt, cite_names = build_prompt(course, skill_id, n_items, want_passages)
    raw = call_claude(settings, render("draft_system"), prompt)
    taken = {str(i.get("id")) for bank in existing_items(course_dir).values() for i in bank}
    taken |= {str(i.get("id")) for d in drafts.list_drafts(course_dir) for i in d.items}
    items, passages, rejected = validate_tool_input(raw, cite_names, taken, skill_id)
    if not items and not passages:
        return DraftResult(None, rejected or ["the model drafted nothing"])
    stamp = now or datetime.now(UTC)
    draft = drafts.Draft(id=drafts.new_draft_id(course_dir, f"claude-{skill_id}", stamp), course=course.id,
                         skill=skill_id, origin="claude", created=stamp.isoformat(), items=items, passages=passages,
                         sources=cite_names, note="; ".join(rejected))
    drafts.save(course_dir, draft)
    return DraftResult(draft, rejected)
