"""Prompt templates: Markdown files under `prompts/` with `{name}` placeholders (str.format style).

One function, `render`, loads a template by name and fills it. It raises `PromptError` when a value is
missing or when a value is given that the template does not use, so templates and code cannot drift
apart silently. Literal braces in a template are written `{{` and `}}`. Values are inserted as text and
never re-parsed, so learner text containing braces is safe.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
"""The folder of templates: `prompts/` at the project root."""

_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


class PromptError(ValueError):
    """A template is missing, malformed, or rendered with the wrong placeholders."""


def template_names() -> list[str]:
    """Names of every template, e.g. `explain` or `offline/intro_analogy` (path under prompts/, no `.md`)."""
    return sorted(p.relative_to(PROMPTS_DIR).with_suffix("").as_posix() for p in PROMPTS_DIR.rglob("*.md"))


@cache
def _load(name: str) -> tuple[str, frozenset[str]]:
    if not _NAME.match(name):
        raise PromptError(f"bad template name {name!r}: use lowercase path parts like 'offline/hint'")
    path = PROMPTS_DIR / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt template {path}; create it or fix the name") from exc
    fields: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PromptError(f"{path}: {exc}; write literal braces as {{{{ and }}}}") from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(f"{path}: placeholder {{{field}}} must be a plain name like {{skill_title}}")
        fields.add(field)
    return text, frozenset(fields)


def placeholders(name: str) -> frozenset[str]:
    """The placeholder names a template expects."""
    return _load(name)[1]


def render(name: str, /, **values: object) -> str:
    """Fill template `name` with `values` (each converted with `str`).

    Raises `PromptError` naming the template when a placeholder has no value or a value has no placeholder.
    """
    text, expected = _load(name)
    missing = sorted(expected - values.keys())
    unused = sorted(values.keys() - expected)
    if missing or unused:
        raise PromptError(f"prompt {name!r}: missing values for {missing}, unused values {unused}")
    return text.format(**{key: str(value) for key, value in values.items()})
