"""Pure helpers for the pages: turn tutor views and reports into what is drawn (no Streamlit, no I/O).

Kept apart from the pages so they can be unit-tested and read without running a browser.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class SkillLike(Protocol):
    """What the skill map needs of one skill (tutor.graph.progress.SkillView)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def p_known(self) -> float: ...
    @property
    def prerequisites(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class StatusStyle:
    label: str
    fill: str
    border: str


STATUS_STYLES: dict[str, StatusStyle] = {
    "locked": StatusStyle("Locked", "#eceff1", "#b0bec5"),
    "available": StatusStyle("Ready to start", "#e3f2fd", "#64b5f6"),
    "in_progress": StatusStyle("In progress", "#fff3e0", "#fb8c00"),
    "mastered": StatusStyle("Mastered", "#e8f5e9", "#43a047"),
    "review_due": StatusStyle("Due for review", "#f3e5f5", "#8e24aa"),
}
UNKNOWN_STATUS = StatusStyle("Unknown", "#ffffff", "#9e9e9e")

DECISION_WORDS: dict[str, str] = {
    "mastered": "Mastered",
    "continue": "Keep practising",
    "practice": "Keep practising",
    "remediate": "Trying another explanation",
    "step_back": "Checking a building block first",
    "review": "Reviewing",
}


def status_style(status: str) -> StatusStyle:
    return STATUS_STYLES.get(status, UNKNOWN_STATUS)


def _dot_text(text: str) -> str:
    """A string safe inside a double-quoted DOT label."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _dot_id(text: str) -> str:
    return '"' + _dot_text(text) + '"'


def skill_label(title: str, p_known: float, width: int = 16, status: str = "") -> str:
    """A node label: the title wrapped to a few short lines, then the mastery estimate as a percentage (or
    "locked": a locked skill has no estimate of its own yet, only the course's prior)."""
    lines = textwrap.wrap(title, width=width) or [title]
    last = "locked" if status == "locked" else percent(p_known)
    return "\\n".join(_dot_text(line) for line in lines) + f"\\n{last}"


def skill_standing(skill: SkillLike) -> str:
    """A skill's state in words for the list of skills: "Locked", or the state and the mastery estimate."""
    label = status_style(skill.status).label
    return label if skill.status == "locked" else f"{label}, {percent(skill.p_known)}"


def percent(value: float) -> str:
    return f"{max(0.0, min(1.0, float(value))):.0%}"


def skill_map_dot(skills: Iterable[SkillLike], current: str | None = None) -> str:
    """The prerequisite graph in DOT: one box per skill coloured by status, an arrow from each prerequisite.

    The current skill is drawn with a thick border. Streamlit renders DOT in the browser (no system graphviz).
    """
    skills = list(skills)
    known = {s.id for s in skills}
    lines = [
        "digraph skills {",
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.12, ranksep=0.3];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12, margin="0.08,0.04"];',
        '  edge [color="#90a4ae", arrowsize=0.7];',
    ]
    for skill in skills:
        style = status_style(skill.status)
        width = 3 if skill.id == current else 1.2
        tooltip = f"{skill.title}: {skill_standing(skill)}"
        lines.append(
            f'  {_dot_id(skill.id)} [label="{skill_label(skill.title, skill.p_known, status=skill.status)}", '
            f'fillcolor="{style.fill}", '
            f'color="{style.border}", penwidth={width}, tooltip="{_dot_text(tooltip)}"];'
        )
    for skill in skills:
        for prerequisite in skill.prerequisites:
            if prerequisite in known:
                lines.append(f"  {_dot_id(prerequisite)} -> {_dot_id(skill.id)};")
    lines.append("}")
    return "\n".join(lines)


def legend_markdown(statuses: Iterable[str] = STATUS_STYLES) -> str:
    """A one-line legend of the skill-map colours."""
    parts = []
    for status in statuses:
        style = status_style(status)
        parts.append(f'<span style="background:{style.fill};border:1px solid {style.border};border-radius:4px;'
                     f'padding:0 6px;margin:0 2px 4px 0;font-size:0.8em;white-space:nowrap;display:inline-block">'
                     f'{style.label}</span>')
    return " ".join(parts)


def decision_summary(decision: Mapping[str, Any] | None) -> str | None:
    """The gate's status in plain words, or None when there is no decision yet."""
    if not decision:
        return None
    status = str(decision.get("status", ""))
    return DECISION_WORDS.get(status, status.replace("_", " ").capitalize() or None)


def decision_reasons(decision: Mapping[str, Any] | None) -> list[str]:
    """The gate's reasons, as the sentences the gate wrote (already in plain words)."""
    if not decision:
        return []
    return [str(r) for r in decision.get("reasons") or [] if str(r).strip()]


def decision_is_current(decision: Mapping[str, Any] | None, skill: SkillLike | None) -> bool:
    """Whether the gate's last decision is about the skill shown as current.

    A decision naming its skill is matched by id. Without one, a "mastered" decision next to a skill that is not
    mastered is taken to be about the skill just finished (the tutor has moved on).
    """
    if not decision or skill is None:
        return False
    if decision.get("skill_id"):
        return str(decision["skill_id"]) == skill.id
    return not (decision.get("status") == "mastered" and skill.status not in ("mastered", "review_due"))


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: str) -> str:
    """A learner's message as Markdown that shows exactly what they typed: every Markdown character escaped (no
    headings, tables, links or images, so nothing remote is ever fetched), line breaks kept."""
    return "  \n".join(_MARKDOWN_SPECIALS.sub(r"\\\1", line) for line in text.splitlines())


def split_latest_turn(messages: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The conversation before the learner's last message, and the latest turn (that message and the replies)."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "learner"), default=None)
    if last is None:
        return [], list(messages)
    return list(messages[:last]), list(messages[last:])


def progress_text(skills: Sequence[SkillLike]) -> str:
    mastered = sum(1 for s in skills if s.status in ("mastered", "review_due"))
    return f"{mastered} of {len(skills)} skills mastered"


_LEADING_SYMBOLS = re.compile(r"^[^\w\s*_`\[(<>#!-]+\s*")


def strip_leading_symbols(text: str) -> str:
    """Text without a leading emoji or mark (✅, ❌, 🎉): the page shows an icon instead."""
    return _LEADING_SYMBOLS.sub("", text, count=1)


EXPLANATION_KINDS = {"explanation": "Explanation", "remediation": "Another explanation", "answer": "Answer"}


def explanation_label(message: Mapping[str, Any]) -> str | None:
    """A caption naming what a tutor message is and in which style ("Another explanation · worked example")."""
    name = EXPLANATION_KINDS.get(str(message.get("kind", "")))
    if name is None:
        return None
    style = str(message.get("style") or "").replace("_", " ")
    return f"{name} · {style}" if style and message.get("kind") != "answer" else name


def choice_letter(index: int) -> str:
    return chr(ord("A") + index)


def choices_markdown(choices: Sequence[str]) -> str:
    """Lettered choices as a Markdown list (for items already answered)."""
    return "\n".join(f"- **{choice_letter(i)}.** {text}" for i, text in enumerate(choices))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[*_`>#\[\]]", " ", text).split()).lower()


def already_shown(citation: Mapping[str, str], shown: str) -> bool:
    """Whether the message already quotes the passage word for word (then Sources only names it)."""
    body = _words(str(citation.get("text", "")))
    return bool(body) and body in _words(shown)


def citation_markdown(citation: Mapping[str, str], *, quote: bool = True) -> str:
    """One cited passage: where it comes from, then its text quoted (unless `quote` is False: shown above)."""
    where = str(citation.get("source", ""))
    heading = str(citation.get("heading", ""))
    title = f"**{where}**" + (f" › {heading}" if heading else "")
    if not quote:
        return f"{title} (quoted in full above)"
    body = str(citation.get("text", "")).strip()
    quoted = "\n".join("> " + line if line else ">" for line in body.splitlines())
    return f"{title}\n\n{quoted}" if quoted else title


# ---------------------------------------------------------------- content page


def problem_rows(problems: Iterable[Any]) -> list[dict[str, str]]:
    """Validation problems (tutor.course.problems.Problem) as table rows."""
    return [
        {
            "File": str(p.file),
            "Line": "" if p.line is None else str(p.line),
            "Field": p.field or "",
            "Problem": str(p.message),
            "How to fix": p.hint or "",
        }
        for p in problems
    ]


def item_analysis_rows(stats: Iterable[Any]) -> list[dict[str, Any]]:
    """Item statistics (tutor.records.ItemStats) as table rows; flagged items first."""
    rows = [
        {
            "Item": s.item_id,
            "Skill": s.skill_id,
            "Attempts": int(s.attempts),
            "Share correct": round(float(s.share_correct) * 100, 1),
            "Discrimination": None if s.discrimination is None else round(float(s.discrimination), 2),
            "Flag": s.flag or "",
        }
        for s in stats
    ]
    return sorted(rows, key=lambda r: (r["Flag"] == "", r["Skill"], r["Item"]))


def choice_rows(counts: Iterable[Any]) -> list[dict[str, Any]]:
    """Choice counts (tutor.distractors.ChoiceCount) as table rows."""
    return [{"Item": c.item_id, "Choice": c.choice, "Correct": "yes" if c.correct else "",
             "Misconception": c.misconception or "", "Chosen": c.chosen, "Share": round(c.share * 100, 1)}
            for c in counts]


def unusable_sources(sources: Iterable[Any], names: Sequence[str]) -> list[str]:
    """What the store holds of the just-added files that explanations cannot use: passages with no skill (never
    retrieved for a skill) or no style (a re-explanation cannot choose them by style)."""
    found = []
    for source in sources:
        if source.source not in names:
            continue
        if not source.skills:
            found.append(f"{source.source}: its passages name no skill")
        elif not source.styles:
            found.append(f"{source.source}: its passages have no style")
    return found


def preview_rows(previews: Iterable[Any], first_words: int = 12) -> list[dict[str, str | int]]:
    """The passages an upload would store (tutor.retrieval.FilePreview), one row each: heading path, word count,
    skills, style, file and first words (last: the long one, so the rest fit a window's width)."""
    rows: list[dict[str, str | int]] = []
    for preview in previews:
        for chunk in preview.chunks:
            words = chunk.text.split()
            rows.append({"Heading": " > ".join(chunk.heading_path), "Words": len(words),
                         "Skills": ", ".join(chunk.skills), "Style": chunk.style or "", "File": preview.source,
                         "Starts": " ".join(words[:first_words]) + (" …" if len(words) > first_words else "")})
    return rows


def preview_warnings(previews: Iterable[Any]) -> list[str]:
    """What is wrong with an upload before it is stored: files that would be skipped (and why), passages that
    name no skill (never used for an explanation) or no style (a re-explanation cannot choose them)."""
    found = []
    for preview in previews:
        if preview.skipped:
            found.append(f"{preview.source} will be skipped: {preview.message}")
            continue
        total = len(preview.chunks)
        no_skill = sum(1 for c in preview.chunks if not c.skills)
        no_style = sum(1 for c in preview.chunks if not c.style)
        if no_skill:
            found.append(f"{preview.source}: {no_skill} of {total} passages name no skill, so explanations can never "
                         "use them; pick the skills above, or name them in the file (`skills:`)")
        if no_style:
            found.append(f"{preview.source}: {no_style} of {total} passages have no style, so a re-explanation "
                         "cannot choose them by style; give the sections a `style:`")
    return found


# ---------------------------------------------------------------- evaluate page

_PROGRESS = re.compile(r"(\d+)\s*/\s*(\d+)")


def progress_fraction(line: str) -> float | None:
    """The share done that a progress line reports ("12/50", tqdm bars), or None."""
    found = _PROGRESS.findall(line)
    if not found:
        return None
    done, total = (int(x) for x in found[-1])
    if total <= 0 or done > total:
        return None
    return done / total


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _flat_row(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any] | None:
    """A mapping as one table row: scalars as they are, short lists of scalars joined, nested mappings of those
    flattened into dotted columns ("latency_ms.p50"). None when something does not fit in a row."""
    row: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if _scalar(item):
            row[name] = item
        elif isinstance(item, list) and all(_scalar(x) for x in item) and len(item) <= 12:
            row[name] = ", ".join(str(x) for x in item)
        elif isinstance(item, Mapping):
            nested = _flat_row(item, f"{name}.")
            if nested is None:
                return None
            row.update(nested)
        else:
            return None
    return row


def json_tables(data: Any, title: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    """Every table in a JSON report, found by shape, with a title naming where it sits.

    - a list of flat objects is a table (one row each);
    - an object with several non-scalar values, all flat objects with the same fields, is a table (one row per
      key, the key in the first column);
    - the scalar fields of any object form a two-column table (name, value);
    - everything else is searched recursively.
    """
    tables: list[tuple[str, list[dict[str, Any]]]] = []
    if isinstance(data, list):
        rows = [_flat_row(x) if isinstance(x, Mapping) else None for x in data]
        if data and all(r is not None for r in rows):
            tables.append((title or "rows", [r for r in rows if r is not None]))
        elif data and all(_scalar(x) for x in data):
            tables.append((title or "values", [{"value": x} for x in data]))
        else:
            for i, x in enumerate(data):
                tables.extend(json_tables(x, f"{title} [{i}]".strip()))
        return tables
    if not isinstance(data, Mapping):
        return tables
    scalars = {str(k): v for k, v in data.items() if _scalar(v)}
    nested = {str(k): v for k, v in data.items() if not _scalar(v)}
    if scalars:
        tables.append((title or "summary", [{"name": k, "value": v} for k, v in scalars.items()]))
    children = {k: _flat_row(v) if isinstance(v, Mapping) else None for k, v in nested.items()}
    fields = {tuple(r) for r in children.values() if r is not None}
    if len(nested) > 1 and all(r is not None for r in children.values()) and len(fields) == 1:
        keyed: list[dict[str, Any]] = [{"": k, **(r or {})} for k, r in children.items()]
        tables.append((title or "table", keyed))
        return tables
    for key, value in nested.items():
        tables.extend(json_tables(value, f"{title} › {key}" if title else key))
    return tables
