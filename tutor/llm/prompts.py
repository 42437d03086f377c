"""Prompt templates: Markdown files under `prompts/` with `{name}` placeholders (str.format style).

One function, `render`, loads a template by name and fills it. It raises `PromptError` when a value is
missing or when a value is given that the template does not use, so templates and code cannot drift
apart silently. Literal braces in a template are written `{{` and `}}`. Values are inserted as text and
never re-parsed, so learner text containing braces is safe.

A prompt set (`PromptSet(folder)`, `Settings.prompt_set`) is another folder of templates with the same names,
used instead of `prompts/` for the templates it has (the others come from `prompts/`). `check_prompt_set`
refuses a set whose templates are unknown, outside the folder, or expect other placeholders.
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


def _path(name: str, folder: Path | None) -> Path:
    if folder is not None:
        path = folder / f"{name}.md"
        if path.is_symlink() or (path.exists() and not path.resolve().is_relative_to(folder.resolve())):
            raise PromptError(f"{path}: a prompt set's templates must be files inside {folder}, not links")
        if path.is_file():
            return path
    return PROMPTS_DIR / f"{name}.md"


@cache
def _load(name: str, folder: Path | None = None) -> tuple[str, frozenset[str]]:
    if not _NAME.match(name):
        raise PromptError(f"bad template name {name!r}: use lowercase path parts like 'offline/hint'")
    path = _path(name, folder)
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
    return _DEFAULT.render(name, **values)


class PromptSet:
    """Templates from `folder` where it has them, else from `prompts/` (`folder=None`: `prompts/` alone)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder.resolve() if folder is not None else None

    def render(self, name: str, /, **values: object) -> str:
        """As `render`, from this set."""
        text, expected = _load(name, self.folder)
        missing = sorted(expected - values.keys())
        unused = sorted(values.keys() - expected)
        if missing or unused:
            raise PromptError(f"prompt {name!r}: missing values for {missing}, unused values {unused}")
        return text.format(**{key: str(value) for key, value in values.items()})


def check_prompt_set(folder: Path) -> list[str]:
    """The names of the templates a prompt-set folder replaces; PromptError (one line, naming the file and the
    fix) for a folder that is missing or empty, a template `prompts/` does not have, a file that leaves the
    folder (a symlink), or a template whose placeholders differ from the one it replaces."""
    if not folder.is_dir():
        raise PromptError(f"prompt set {folder}: not a folder; give a folder of templates named as in {PROMPTS_DIR}")
    root = folder.resolve()
    known = set(template_names())
    names: list[str] = []
    for path in sorted(folder.rglob("*.md")):
        name = path.relative_to(folder).with_suffix("").as_posix()
        if path.is_symlink() or not path.resolve().is_relative_to(root):
            raise PromptError(f"{path}: a prompt set's templates must be files inside {folder}, not links")
        if name not in known:
            raise PromptError(f"{path}: prompts/ has no template {name!r} to replace; use one of its names")
        _load.cache_clear()  # the folder's files may have changed since they were last read
        theirs, ours = _load(name, root)[1], _load(name)[1]
        if theirs != ours:
            raise PromptError(f"{path}: placeholders {sorted(theirs)} differ from prompts/{name}.md's "
                              f"{sorted(ours)}; use the same ones")
        names.append(name)
    if not names:
        raise PromptError(f"prompt set {folder}: no .md templates; add templates named as in {PROMPTS_DIR}")
    return names


_DEFAULT = PromptSet()
