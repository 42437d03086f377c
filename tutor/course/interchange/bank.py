"""Adding items (and source passages) to a course folder all-or-nothing, and the import plan.

`add_to_course` stages the new files in a temporary copy of the course, runs the course validator there, and
only when the copy is clean writes the files into the real course (each by an atomic rename). So an import or an
approved draft either leaves a course that passes `tutor content validate`, or changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tutor.course.loader import validate_course
from tutor.course.problems import Problem

_FORM_SEGMENT = re.compile(r"^(?:form|version|parallel)[\s_-]*([A-Za-z0-9]{1,8})$", re.IGNORECASE)
_GENERIC = {"top", "$course$", "$system$", "$module$", "$cat1$", "$cat2$", "$cat3$"}


def dump_items(items: Iterable[Mapping[str, Any]]) -> str:
    """Items as the YAML list body of an item bank (indented under `items:`)."""
    text = yaml.safe_dump([dict(i) for i in items], sort_keys=False, allow_unicode=True, width=110)
    return "".join(f"  {line}\n" if line else "\n" for line in text.splitlines())


def bank_text(existing: str | None, skill: str, items: list[dict[str, Any]]) -> str:
    """The new text of items/<skill>.yaml with `items` appended.

    Appends to the existing text (keeping its comments) when `items:` is its last top-level key; otherwise the
    file is rewritten from its data."""
    if existing is None:
        return f"skill: {skill}\nitems:\n{dump_items(items)}"
    data = yaml.safe_load(existing) or {}
    appended = existing.rstrip("\n") + "\n" + dump_items(items)
    try:
        check = yaml.safe_load(appended)
    except yaml.YAMLError:
        check = None
    if isinstance(data, dict) and isinstance(check, dict) and check.get("items") == [*data.get("items", []), *items]:
        return appended
    merged = {**data, "skill": data.get("skill", skill), "items": [*data.get("items", []), *items]}
    return yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=110)


def existing_items(course_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The raw items of each bank file (by skill file stem); unreadable files are skipped (the validator reports)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((course_dir / "items").glob("*.y*ml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            found[path.stem] = [i for i in data["items"] if isinstance(i, dict)]
    return found


def add_to_course(
    course_dir: Path, items: Mapping[str, list[dict[str, Any]]], sources: Mapping[str, str] | None = None
) -> list[Problem]:
    """Append `items` (by skill) and write `sources` (file name -> text under sources/), or change nothing.

    Returns the validator's problems for the course as it would be; empty when the files were written."""
    sources = sources or {}
    files: dict[Path, str] = {}
    for skill, new in items.items():
        if not new:
            continue
        path = course_dir / "items" / f"{skill}.yaml"
        existing = path.read_text(encoding="utf-8-sig") if path.is_file() else None
        files[Path("items") / f"{skill}.yaml"] = bank_text(existing, skill, new)
    for name, text in sources.items():
        files[Path("sources") / name] = text
    with tempfile.TemporaryDirectory(prefix="tutor-import-") as tmp:
        staged = Path(tmp) / course_dir.name
        staged.mkdir()
        for part in ("course.yaml", "items", "sources"):
            src = course_dir / part
            if src.is_symlink():
                return [Problem(str(src), "is a symbolic link; refusing to follow it", "replace it with a real file")]
            if src.is_dir():
                shutil.copytree(src, staged / part, symlinks=True)
            elif src.is_file():
                shutil.copy2(src, staged / part)
        for rel, text in files.items():
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            (staged / rel).write_text(text, encoding="utf-8")
        problems = validate_course(staged)
    if problems:
        return problems
    for rel, text in files.items():
        target = course_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    return []


# ---------------------------------------------------------------- ids, forms, skills


def skill_and_form(category: str | None) -> tuple[str | None, str | None]:
    """A category path ("$course$/top/Fractions/Form B") as (skill name, form): the last meaningful segment
    names the skill, unless it names a form ("Form B", "version 2"), then the one before it does."""
    if not category:
        return None, None
    segments = [s.strip() for s in category.split("/") if s.strip() and s.strip().lower() not in _GENERIC]
    segments = [s for s in segments if not s.lower().startswith("default for ")]
    if not segments:
        return None, None
    form_match = _FORM_SEGMENT.match(segments[-1])
    if form_match:
        form = form_match.group(1).upper()
        return (segments[-2] if len(segments) > 1 else None), form
    return segments[-1], None


def unique_id(base: str, taken: set[str]) -> str:
    base = base[:72].strip("-_") or "item"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def next_form(counts: Counter[str]) -> str:
    """Alternate A and B: the one with fewer items so far (A on a tie)."""
    return "A" if counts["A"] <= counts["B"] else "B"
