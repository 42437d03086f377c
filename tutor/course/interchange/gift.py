"""Moodle's GIFT text format (https://docs.moodle.org/en/GIFT_format), read with a small parser.

No maintained GIFT parser exists on PyPI (pygiftparser 1.1 targets Python 3.4, renders HTML and keeps no line
numbers), so this follows the grammar Moodle's own reader (question/format/gift/format.php) implements:

    file      := (comment | "$CATEGORY:" path | question | blank line)*
    question  := ["::" title "::"] ["[" format "]"] text "{" answers "}" [text]   (separated by blank lines)
    answers   := ""                                   -> essay
               | ("T"|"TRUE"|"F"|"FALSE") ["#" fb-wrong ["#" fb-right]]       -> true/false
               | "#" numeric-answer+                  -> numerical: value[:tolerance] | min..max
               | ("=" | "~") ["%" weight "%"] text ["->" match] ["#" feedback] ...
    "####" general feedback may close any answers block; \\ escapes ~ = # { } :
Choices with "->" are matching; "~" with several positive weights is multiple response; "=" only is short answer.
Text after the block makes a "missing word" question (the block becomes a blank, as in Moodle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tutor.course.interchange.common import Note, Parsed, Question, html_to_text

_ESCAPES = {"\\~": "~", "\\=": "=", "\\#": "#", "\\{": "{", "\\}": "}", "\\:": ":", "\\n": "\n"}
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_CATEGORY = re.compile(r"^\s*\$CATEGORY:\s*(.*)$")
_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


@dataclass
class _Answer:
    marker: str  # "=" or "~"
    weight: float | None
    text: str
    feedback: str | None


def _unescape(text: str) -> str:
    return re.sub(r"\\[~=#{}:n]", lambda m: _ESCAPES[m.group(0)], text)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split at `sep` where it is not preceded by a backslash escape."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if text.startswith(sep, i):
            parts.append("".join(current))
            current = []
            i += len(sep)
            continue
        current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _find_unescaped(text: str, chars: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            return i
        i += 1
    return -1


def _text(raw: str) -> tuple[str, list[str]]:
    """Plain text of a GIFT text field with its optional [format] marker; HTML is converted."""
    match = _FORMAT.match(raw)
    body = raw[match.end() :] if match else raw
    fmt = match.group(1).lower() if match else "moodle"
    body = _unescape(body).strip()
    if fmt in ("html", "moodle") and re.search(r"<[a-zA-Z/]", body):
        return html_to_text(body)
    return body, []


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Question blocks (their lines) separated by blank lines, with comment lines removed; with start lines."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("//"):
            continue
        if not raw.strip():
            if current:
                blocks.append((start, current))
                current = []
            continue
        if not current:
            start = number
        current.append(raw)
    if current:
        blocks.append((start, current))
    return blocks


def parse(data: bytes, shown: str) -> Parsed:
    """Every question of a GIFT file, with a note for each one (or part) that cannot be represented."""
    result = Parsed()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.notes.append(Note(shown, str(line), "not UTF-8 text; save the file as UTF-8"))
        return result
    category: str | None = None
    for start, lines in _blocks(text):
        joined = "\n".join(lines)
        cat = _CATEGORY.match(lines[0])
        if cat:
            category = cat.group(1).strip()
            if len(lines) == 1:
                continue
            joined = "\n".join(lines[1:])
            start += 1
        _question(joined, start, shown, category, result)
    return result


def _question(block: str, start: int, shown: str, category: str | None, result: Parsed) -> None:
    where = str(start)
    title = ""
    body = block.strip()
    if body.startswith("::"):
        end = body.find("::", 2)
        if end == -1:
            result.notes.append(Note(shown, where, "title opened with '::' is never closed; add the closing '::'"))
            return
        title = _unescape(body[2:end]).strip()
        body = body[end + 2 :]
    open_at = _find_unescaped(body, "{")
    if open_at == -1:
        result.notes.append(Note(shown, where, "no answer block {...}: a description, not a question", question=title))
        return
    close_at = _find_unescaped(body, "}", open_at + 1)
    if close_at == -1:
        result.notes.append(Note(shown, where, "answer block '{' is never closed; add '}'", question=title))
        return
    before, answers, after = body[:open_at], body[open_at + 1 : close_at], body[close_at + 1 :]
    if _find_unescaped(after, "{") != -1:
        result.notes.append(Note(shown, where, "several answer blocks (a cloze with several gaps) cannot be "
                                 "represented", question=title))
        return
    prompt, problems = _text(before)
    tail, tail_problems = _text(after)
    problems += tail_problems
    if tail and re.search(r"\w", tail):
        prompt = f"{prompt} _____ {tail}".strip()
    elif tail:
        problems.append(f"text after the answer block ({tail!r}) has no words; left out")
    name = title or prompt[:40]
    general: str | None = None
    parts = _split_unescaped(answers, "####")
    if len(parts) > 1:
        answers = parts[0]
        general = _text("####".join(parts[1:]))[0] or None
    fields = _answers(answers.strip(), shown, where, name, result)
    if fields is None:
        return
    for problem in problems:
        if "cannot be carried" in problem:
            result.notes.append(Note(shown, where, problem, question=name))
            return
        result.notes.append(Note(shown, where, problem, "changed", name))
    if not prompt:
        result.notes.append(Note(shown, where, "the question has no text", question=name))
        return
    fields["prompt"] = prompt
    needs_rubric = fields["kind"] == "free_response"
    if general:
        if needs_rubric:
            fields["reference"] = general
        else:
            fields["explanation"] = general
    result.questions.append(Question(name, fields, shown, where, category, needs_rubric=needs_rubric))


def _answers(block: str, shown: str, where: str, name: str, result: Parsed) -> dict[str, Any] | None:
    def unsupported(message: str) -> None:
        result.notes.append(Note(shown, where, message, question=name))

    if not block:
        return {"kind": "free_response"}
    tf = re.fullmatch(r"(TRUE|FALSE|T|F)\s*((?:#.*)?)", block, re.DOTALL | re.IGNORECASE)
    if tf:
        truth = tf.group(1).upper().startswith("T")
        feedback = [_text(f)[0] or None for f in _split_unescaped(tf.group(2), "#")[1:]]
        wrong_fb = feedback[0] if feedback else None
        right_fb = feedback[1] if len(feedback) > 1 else None
        return {"kind": "multiple_choice", "choices": [
            {"text": "True", "correct": truth, "feedback": right_fb if truth else wrong_fb},
            {"text": "False", "correct": not truth, "feedback": wrong_fb if truth else right_fb},
        ]}
    if block.startswith("#"):
        return _numeric(block[1:], shown, where, name, result)
    answers = _choice_list(block)
    if answers is None:
        unsupported("answers must start with '=' or '~'; cannot read this answer block")
        return None
    if any("->" in a.text for a in answers):
        unsupported("matching questions cannot be represented")
        return None
    wrong = [a for a in answers if a.marker == "~"]
    if not wrong:
        return _short_answer(answers, shown, where, name, result)
    positive = [a for a in answers if (a.marker == "=") or (a.weight is not None and a.weight > 0)]
    if len(positive) != 1:
        unsupported(f"multiple response ({len(positive)} answers earn credit) cannot be represented as a "
                    "single-answer item")
        return None
    right = positive[0]
    if right.weight is not None and right.weight < 100:
        result.notes.append(Note(shown, where, f"the only credited answer is worth {right.weight:g}%; imported as "
                                 "fully correct", "changed", name))
    choices = []
    for a in answers:
        text = _text(a.text)[0]
        choices.append({"text": text, "correct": a is right,
                        "feedback": _text(a.feedback)[0] or None if a.feedback else None})
    return {"kind": "multiple_choice", "choices": choices}


def _choice_list(block: str) -> list[_Answer] | None:
    if not block or block[0] not in "=~":
        return None
    answers: list[_Answer] = []
    i = 0
    while i < len(block):
        marker = block[i]
        nxt = _find_unescaped(block, "=~", i + 1)
        # "->" inside matching answers must not end the answer at its '~' or '='; only '=' and '~' start one
        chunk = block[i + 1 : nxt if nxt != -1 else len(block)]
        weight = None
        weighted = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", chunk)
        if weighted:
            weight = float(weighted.group(1))
            chunk = chunk[weighted.end() :]
        pieces = _split_unescaped(chunk, "#")
        answers.append(_Answer(marker, weight, pieces[0].strip(), "#".join(pieces[1:]).strip() or None))
        i = nxt if nxt != -1 else len(block)
    return answers


def _short_answer(answers: list[_Answer], shown: str, where: str, name: str, result: Parsed) -> dict[str, Any] | None:
    accepted: list[str] = []
    patterns: list[str] = []
    for a in answers:
        text = _text(a.text)[0]
        if a.weight is not None and a.weight < 100:
            what = "any other answer" if text == "*" else repr(text)
            result.notes.append(Note(shown, where, f"{a.weight:g}% credit for {what} cannot be represented; it "
                                     "counts as wrong", "changed", name))
            continue
        if "*" in text:
            patterns.append(".*".join(re.escape(part) for part in text.split("*")))
        else:
            accepted.append(text)
    if not accepted and not patterns:
        result.notes.append(Note(shown, where, "no fully correct answer", question=name))
        return None
    fields: dict[str, Any] = {"kind": "short_text", "accepted": accepted}
    if patterns:
        fields["pattern"] = "|".join(f"(?:{p})" for p in patterns)
        result.notes.append(Note(shown, where, "wildcard answers became a regular expression", "changed", name))
    feedback = [a.feedback for a in answers if a.feedback]
    if feedback:
        result.notes.append(Note(shown, where, "per-answer feedback of a short answer is not carried", "changed", name))
    return fields


def _numeric(block: str, shown: str, where: str, name: str, result: Parsed) -> dict[str, Any] | None:
    first = block.strip()
    answers = _choice_list(first if first[:1] in "=~" else "=" + first)
    if answers is None:
        return None
    credited: list[tuple[float, float]] = []
    for a in answers:
        if a.marker == "~" and not a.text:
            if a.feedback:
                result.notes.append(Note(shown, where, "feedback for wrong numbers is not carried", "changed", name))
            continue
        value = _numeric_value(a.text)
        if value is None:
            result.notes.append(Note(shown, where, f"cannot read the number {a.text!r}", question=name))
            return None
        if a.marker == "~" or (a.weight is not None and a.weight < 100):
            result.notes.append(Note(shown, where, f"partial credit for {a.text!r} cannot be represented; it counts "
                                     "as wrong", "changed", name))
            continue
        credited.append(value)
    if len(credited) != 1:
        result.notes.append(Note(shown, where, f"{len(credited)} fully correct numbers; exactly one can be "
                                 "represented", question=name))
        return None
    answer, tolerance = credited[0]
    return {"kind": "numeric", "answer": answer, "tolerance": tolerance}


def _numeric_value(text: str) -> tuple[float, float] | None:
    """value:tolerance, min..max or a plain value, as (answer, absolute tolerance)."""
    text = text.strip()
    match = re.fullmatch(rf"({_NUMBER})\s*:\s*({_NUMBER})", text)
    if match:
        return float(match.group(1)), abs(float(match.group(2)))
    match = re.fullmatch(rf"({_NUMBER})\s*\.\.\s*({_NUMBER})", text)
    if match:
        low, high = sorted((float(match.group(1)), float(match.group(2))))
        return (low + high) / 2, (high - low) / 2
    match = re.fullmatch(_NUMBER, text)
    return (float(text), 0.0) if match else None
