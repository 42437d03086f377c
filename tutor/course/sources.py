"""Parsing source material (Markdown or plain text) into sections with their skills and style.

A file may open with YAML front matter (`skills`, `style`, `title`) that applies to every section; a section
(the text under a `#`, `##` or `###` heading) may override it with a directive on the line after its heading:
`<!-- {skills: [equivalent], style: analogy} -->`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError

from tutor.course.models import SourceMeta, SourceSection
from tutor.course.problems import ContentError, Problem

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*(\{.*\})\s*-->\s*$")
_DIRECTIVE_LIKE = re.compile(r"^\s*<!--\s*\{")


def _key_line(raw: str, key: str, line: int) -> int:
    """The line of `key:` inside front matter starting at `line` (or `line` itself when not found)."""
    for offset, text in enumerate(raw.splitlines()):
        if re.match(rf"\s*{re.escape(key)}\s*:", text):
            return line + offset
    return line


def _meta(raw: str, file: str, line: int, problems: list[Problem]) -> SourceMeta:
    try:
        data: Any = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        where = line + mark.line if mark is not None else line
        problems.append(Problem(file, f"front matter/directive is not valid YAML: {reason}", "fix the YAML", where))
        return SourceMeta()
    except RecursionError:
        problems.append(Problem(file, "front matter/directive is nested too deeply", "fix the YAML", line))
        return SourceMeta()
    try:
        return SourceMeta.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or None
            hint = "allowed fields: skills, style, title" if err["type"] == "extra_forbidden" else (
                "use one of: definition, worked_example, analogy, step_by_step, common_mistakes, visual, "
                "scenario, summary" if field == "style" else "see the course format in README.md"
            )
            key_line = _key_line(raw, str(err["loc"][0]), line) if err["loc"] else line
            problems.append(Problem(file, err["msg"], hint, key_line, field))
        return SourceMeta()


def parse_markdown(text: str, file: str) -> list[SourceSection]:
    """Split a source file into sections; raise ContentError listing every problem in the file."""
    problems: list[Problem] = []
    lines = text.splitlines()
    start = 0
    base = SourceMeta()
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ContentError([Problem(file, "front matter is not closed", "end it with a line '---'", 1)])
        base = _meta("\n".join(lines[1:end]), file, 2, problems)
        start = end + 1

    sections: list[SourceSection] = []
    path: list[str] = []
    levels: list[int] = []
    meta = base
    body: list[str] = []
    body_line = start + 1

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append(
                SourceSection(
                    file=file,
                    heading_path=tuple(path),
                    text=content,
                    skills=tuple(meta.skills or ()),
                    style=meta.style,
                    line=body_line,
                )
            )
        body.clear()

    i = start
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while levels and levels[-1] >= level:
                levels.pop()
                path.pop()
            levels.append(level)
            path.append(heading.group(2))
            meta = base
            body_line = i + 1
            if i + 1 < len(lines) and (directive := _DIRECTIVE.match(lines[i + 1])):
                override = _meta(directive.group(1), file, i + 2, problems)
                meta = base.model_copy(update=override.model_dump(exclude_none=True))
                i += 1
        else:
            if _DIRECTIVE_LIKE.match(line):
                problems.append(Problem(
                    file, "this section directive is ignored: it must be a complete `<!-- {...} -->` on the line "
                    "right after a heading", "move it to the line right after its heading, or fix the comment", i + 1,
                ))
            body.append(line)
        i += 1
    flush()
    if problems:
        raise ContentError(problems)
    return sections
