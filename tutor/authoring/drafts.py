"""Drafts: items and passages proposed by Claude or left by an import, kept out of the course until approved.

A draft is one YAML file `content/<course>/drafts/<id>.yaml`. The loader never reads `drafts/`, so nothing
in a draft reaches learners. `approve` appends its items to `items/<skill>.yaml` and writes its passages to
`sources/`, all-or-nothing through the course validator (`bank.add_to_course`); `reject` only marks it.
Items are stored as plain mappings so an incomplete draft (an imported essay without a rubric) can be kept
and edited; `item_problems` says what stops it from being approved.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tutor.course.interchange.bank import add_to_course, existing_items, unique_id
from tutor.course.models import Item, Style

Status = Literal["pending", "approved", "rejected"]
_ITEM: TypeAdapter[Item] = TypeAdapter(Item)
_DRAFT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


class DraftError(ValueError):
    """A draft that cannot be read, found, edited or approved; the message says why and what to do."""


class DraftPassage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    style: Style
    text: str = Field(min_length=1)
    cites: list[str] = Field(default_factory=list, description="source sections it was drawn from")


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_DRAFT_ID.pattern)
    course: str
    skill: str
    origin: Literal["claude", "import"]
    status: Status = "pending"
    created: str
    note: str = ""
    items: list[dict[str, Any]] = Field(default_factory=list)
    passages: list[DraftPassage] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="the course passages the draft was grounded in")
    decided: str | None = None


def drafts_dir(course_dir: Path) -> Path:
    return course_dir / "drafts"


def item_problems(item: dict[str, Any]) -> list[str]:
    """What stops one drafted item from being a valid course item (empty when it is one)."""
    try:
        _ITEM.validate_python(item)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'item'}: {e['msg']}" for e in exc.errors()]
    return []


def new_draft_id(course_dir: Path, stem: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    taken = {p.stem for p in drafts_dir(course_dir).glob("*.yaml")}
    return unique_id(f"{stem}-{stamp}", taken)


def save(course_dir: Path, draft: Draft) -> Path:
    folder = drafts_dir(course_dir)
    folder.mkdir(exist_ok=True)
    path = folder / f"{draft.id}.yaml"
    path.write_text(yaml.safe_dump(draft.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=110),
                    encoding="utf-8")
    return path


def load(course_dir: Path, draft_id: str) -> Draft:
    if not _DRAFT_ID.match(draft_id):
        raise DraftError(f"{draft_id!r} is not a draft id; see `tutor content drafts list`")
    path = drafts_dir(course_dir) / f"{draft_id}.yaml"
    if not path.is_file():
        raise DraftError(f"no draft {draft_id!r} in {drafts_dir(course_dir)}; see `tutor content drafts list`")
    return _read(path)


def _read(path: Path) -> Draft:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Draft.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DraftError(f"{path}: cannot read the draft: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DraftError(f"{path}: [{'.'.join(str(p) for p in first['loc'])}] {first['msg']}") from exc


def list_drafts(course_dir: Path, status: Status | None = None) -> list[Draft]:
    found = [_read(p) for p in sorted(drafts_dir(course_dir).glob("*.yaml"))]
    return [d for d in found if status is None or d.status == status]


def edit(course_dir: Path, draft_id: str, text: str) -> Draft:
    """Replace a pending draft's items and passages from edited YAML (the `items`/`passages` of `show`)."""
    draft = load(course_dir, draft_id)
    if draft.status != "pending":
        raise DraftError(f"draft {draft_id} is already {draft.status}; only pending drafts can be edited")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise DraftError(f"edited draft:{where}: YAML syntax error; fix the indentation or quoting") from exc
    if not isinstance(data, dict) or not set(data) <= {"items", "passages"}:
        raise DraftError("edited draft: give a mapping with `items:` and/or `passages:` only")
    try:
        updated = draft.model_copy(update={
            "items": [dict(i) for i in data.get("items", draft.items) or []],
            "passages": [DraftPassage.model_validate(p) for p in data.get("passages", []) or []],
        })
    except (ValidationError, TypeError, ValueError) as exc:
        raise DraftError(f"edited draft: {exc}".splitlines()[0]) from exc
    save(course_dir, updated)
    return updated


def editable_text(draft: Draft) -> str:
    return yaml.safe_dump({"items": draft.items, "passages": [p.model_dump(mode="json") for p in draft.passages]},
                          sort_keys=False, allow_unicode=True, width=110)


def passage_markdown(draft: Draft) -> str:
    """The draft's passages as a course source file (front matter naming the skill; a style per section)."""
    parts = [f"---\nskills: [{draft.skill}]\n---\n"]
    for p in draft.passages:
        cites = f"\n\n(Drawn from: {'; '.join(p.cites)}.)" if p.cites else ""
        parts.append(f"## {p.title}\n<!-- {{style: {p.style.value}}} -->\n{p.text.strip()}{cites}\n")
    return "\n".join(parts)


def approve(course_dir: Path, draft_id: str, now: datetime | None = None) -> list[str]:
    """Add a pending draft's items and passages to the course; returns problems (empty when approved)."""
    draft = load(course_dir, draft_id)
    if draft.status != "pending":
        return [f"draft {draft_id} is already {draft.status}"]
    problems = [f"item {i + 1}: {p}" for i, item in enumerate(draft.items) for p in item_problems(item)]
    if problems:
        return problems
    taken = {str(i.get("id")) for bank in existing_items(course_dir).values() for i in bank}
    clashes = [str(i["id"]) for i in draft.items if i["id"] in taken]
    if clashes:
        return [f"item id(s) already in the course: {', '.join(clashes)}; edit the draft to rename them"]
    sources = {f"draft-{draft.id}.md": passage_markdown(draft)} if draft.passages else {}
    found = add_to_course(course_dir, {draft.skill: draft.items} if draft.items else {}, sources)
    if found:
        return [str(p) for p in found]
    save(course_dir, draft.model_copy(update={"status": "approved",
                                              "decided": (now or datetime.now(UTC)).isoformat()}))
    return []


def reject(course_dir: Path, draft_id: str, now: datetime | None = None) -> None:
    draft = load(course_dir, draft_id)
    if draft.status != "pending":
        raise DraftError(f"draft {draft_id} is already {draft.status}")
    save(course_dir, draft.model_copy(update={"status": "rejected",
                                              "decided": (now or datetime.now(UTC)).isoformat()}))
