"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format): read and write.

Read: `<question type="category">` sets the category of the questions after it; multichoice (single answer),
truefalse, numerical (first fully credited answer and its tolerance), shortanswer (fully credited answers; `*`
wildcards become a pattern), essay (a draft needing a rubric; graderinfo becomes its reference). Hints
become hints, generalfeedback the worked explanation, per-answer feedback the choice's feedback. Every other
type (matching, cloze, drag and drop, calculated, ...) and anything partly credited is reported.
Write: one `<quiz>`, a category per skill (with "Form X" subcategories), each item as the nearest type.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from tutor.course.interchange.common import (
    Note,
    Parsed,
    Question,
    child,
    children,
    html_to_text,
    line,
    looks_like_html,
    number_text,
    number_value,
)
from tutor.course.models import FreeResponseItem, Item, MultipleChoiceItem, NumericItem, ShortTextItem

_UNSUPPORTED = {
    "matching": "matching questions", "multianswer": "cloze (embedded answers) questions",
    "cloze": "cloze (embedded answers) questions",
    "ddwtos": "drag and drop into text", "ddimageortext": "drag and drop onto image",
    "ddmarker": "drag and drop markers",
    "gapselect": "select missing words", "calculated": "calculated questions", "calculatedsimple": "calculated "
    "questions", "calculatedmulti": "calculated multichoice", "randomsamatch": "random short-answer matching",
    "random": "random question slots", "ordering": "ordering questions",
}


def _text_of(element: etree._Element | None) -> tuple[str, list[str]]:
    if element is None:
        return "", []
    node = child(element, "text")
    raw = (node.text if node is not None else element.text) or ""
    if "@@PLUGINFILE@@" in raw or children(element, "file"):
        pass  # images are reported by html_to_text (src names the embedded file)
    fmt = element.get("format", "html")
    if fmt in ("html", "moodle_auto_format") or looks_like_html(raw):
        return html_to_text(raw)
    return raw.strip(), []


def parse_root(root: etree._Element, shown: str) -> Parsed:
    result = Parsed()
    category: str | None = None
    for question in children(root, "question"):
        kind = question.get("type", "")
        where = line(question)
        if kind == "category":
            category = _text_of(child(question, "category"))[0] or None
            continue
        name = _text_of(child(question, "name"))[0]
        prompt, problems = _text_of(child(question, "questiontext"))
        name = name or prompt[:40]

        def note(message: str, level: str = "unsupported", _n: str = name, _w: str = where) -> None:
            result.notes.append(Note(shown, _w, message, level, _n))  # type: ignore[arg-type]

        if kind in _UNSUPPORTED:
            note(f"{_UNSUPPORTED[kind]} cannot be represented")
            continue
        if kind == "description":
            note("a description, not a question: not imported")
            continue
        fields = _fields(question, kind, note)
        if fields is None:
            continue
        if any("cannot be carried" in p for p in problems):
            note(next(p for p in problems if "cannot be carried" in p))
            continue
        for problem in problems:
            note(problem, "changed")
        if not prompt:
            note("the question has no text")
            continue
        fields["prompt"] = prompt
        general = _text_of(child(question, "generalfeedback"))[0]
        needs_rubric = fields["kind"] == "free_response" and not fields.get("rubric")
        if general:
            fields["explanation"] = general
        hints = [_text_of(h)[0] for h in children(question, "hint")]
        if any(hints):
            fields["hints"] = [h for h in hints if h]
        result.questions.append(Question(name, fields, shown, where, category, needs_rubric=needs_rubric))
    return result


def _answers(question: etree._Element) -> list[tuple[float, str, str, etree._Element]]:
    out = []
    for answer in children(question, "answer"):
        try:
            fraction = float(answer.get("fraction", "0"))
        except ValueError:
            fraction = 0.0
        text = _text_of(answer)[0]
        feedback = _text_of(child(answer, "feedback"))[0]
        out.append((fraction, text, feedback, answer))
    return out


def _child_text(element: etree._Element, name: str, default: str = "") -> str:
    found = child(element, name)
    return (found.text or default).strip() if found is not None else default


def _fields(question: etree._Element, kind: str, note: Any) -> dict[str, Any] | None:
    answers = _answers(question)
    if kind == "multichoice":
        single = _child_text(question, "single", "true").lower()
        credited = [a for a in answers if a[0] > 0]
        if single not in ("true", "1") or len(credited) != 1:
            note(f"multiple response ({len(credited)} answers earn credit) cannot be represented as a single-answer "
                 "item")
            return None
        if credited[0][0] < 100:
            note(f"the only credited answer is worth {credited[0][0]:g}%; imported as fully correct", "changed")
        return {"kind": "multiple_choice", "choices": [
            {"text": text, "correct": frac > 0, "feedback": feedback or None} for frac, text, feedback, _ in answers]}
    if kind == "truefalse":
        choices: list[dict[str, Any]] = []
        for frac, text, feedback, _ in answers:
            label = "True" if text.strip().lower() in ("true", "1") else "False"
            choices.append({"text": label, "correct": frac >= 100, "feedback": feedback or None})
        if sum(bool(c["correct"]) for c in choices) != 1:
            note("a true/false question needs exactly one correct answer")
            return None
        return {"kind": "multiple_choice", "choices": choices}
    if kind == "numerical":
        full = [a for a in answers if a[0] >= 100 and a[1] != "*"]
        for frac, text, _, _ in answers:
            if 0 < frac < 100 or text == "*" and frac > 0:
                note(f"{frac:g}% credit for {text!r} cannot be represented; it counts as wrong", "changed")
        if len(full) != 1:
            note(f"{len(full)} fully correct numbers; exactly one can be represented")
            return None
        value = number_value(full[0][1])
        tolerance = number_value(_child_text(full[0][3], "tolerance", "0"))
        if value is None or not isinstance(tolerance, float):
            note(f"cannot read the number {full[0][1]!r} or its tolerance")
            return None
        tolerance = abs(tolerance)
        fields: dict[str, Any] = {"kind": "numeric", "answer": value, "tolerance": tolerance}
        unit_names = [name for u in question.iter("unit") if (name := _child_text(u, "unit_name"))]
        if unit_names:
            fields["units"] = unit_names[0]
            if len(unit_names) > 1:
                note(f"only the first unit ({unit_names[0]}) is carried", "changed")
        return fields
    if kind == "shortanswer":
        accepted, patterns = [], []
        for frac, text, _, _ in answers:
            if frac < 100:
                what = "any other answer" if text == "*" else repr(text)
                if frac > 0 or text != "*":
                    note(f"{frac:g}% credit for {what} cannot be represented; it counts as wrong", "changed")
                continue
            if "*" in text:
                patterns.append(".*".join(re.escape(p) for p in text.split("*")))
            else:
                accepted.append(text)
        if not accepted and not patterns:
            note("no fully correct answer")
            return None
        usecase = child(question, "usecase")
        fields = {"kind": "short_text", "accepted": accepted,
                  "case_sensitive": usecase is not None and (usecase.text or "0").strip() == "1"}
        if patterns:
            fields["pattern"] = "|".join(f"(?:{p})" for p in patterns)
        return fields
    if kind == "essay":
        return essay_fields(_text_of(child(question, "graderinfo"))[0])
    note(f"question type {kind!r} is not supported")
    return None


def essay_fields(info: str) -> dict[str, Any]:
    """A free response from grader information; a rubric written by `rubric_text` is read back."""
    fields: dict[str, Any] = {"kind": "free_response"}
    reference, _, rubric = info.partition(RUBRIC_HEADING)
    if reference.strip():
        fields["reference"] = reference.strip()
    points = []
    for raw in rubric.splitlines():
        match = re.fullmatch(r"\s*-\s*(.+?)(?:\s*\(keywords: (.*)\))?\s*", raw)
        if match:
            keywords = [k.strip() for k in (match.group(2) or "").split(";") if k.strip()]
            points.append({"point": match.group(1), "keywords": keywords})
    if points:
        fields["rubric"] = points
    return fields


RUBRIC_HEADING = "\n\nRubric:\n"


def rubric_text(item: FreeResponseItem) -> str:
    """Reference answer and rubric as plain text an LMS grader can read (and an import reads back)."""
    points = "\n".join(f"- {p.point}" + (f" (keywords: {'; '.join(p.keywords)})" if p.keywords else "")
                       for p in item.rubric)
    return f"{item.reference}{RUBRIC_HEADING}{points}"


# ---------------------------------------------------------------- writing


def _text_el(parent: etree._Element, tag: str, text: str, fmt: str | None = "plain_text") -> etree._Element:
    element = etree.SubElement(parent, tag)
    if fmt:
        element.set("format", fmt)
    etree.SubElement(element, "text").text = text
    return element


def export(skills: dict[str, tuple[Item, ...]]) -> bytes:
    """A Moodle XML quiz of every item, one category per skill and form ("<skill>/Form <form>")."""
    quiz = etree.Element("quiz")
    for skill, items in skills.items():
        for form in sorted({i.form for i in items}):
            cat = etree.SubElement(quiz, "question", type="category")
            _text_el(cat, "category", f"$course$/top/{skill}/Form {form}", None)
            for item in (i for i in items if i.form == form):
                _question(quiz, item)
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _question(quiz: etree._Element, item: Item) -> None:
    kinds = {MultipleChoiceItem: "multichoice", NumericItem: "numerical", ShortTextItem: "shortanswer",
             FreeResponseItem: "essay"}
    q = etree.SubElement(quiz, "question", type=kinds[type(item)])
    _text_el(q, "name", item.id, None)
    _text_el(q, "questiontext", item.prompt)
    general = item.explanation or ""
    _text_el(q, "generalfeedback", general)
    if isinstance(item, MultipleChoiceItem):
        etree.SubElement(q, "single").text = "true"
        etree.SubElement(q, "shuffleanswers").text = "true"
        for choice in item.choices:
            a = _text_el(q, "answer", choice.text)
            a.set("fraction", "100" if choice.correct else "0")
            _text_el(a, "feedback", choice.feedback or "")
    elif isinstance(item, NumericItem):
        a = _text_el(q, "answer", number_text(item.answer if item.answer is not None else 0))
        a.set("fraction", "100")
        etree.SubElement(a, "tolerance").text = repr(item.tolerance)
        if item.units:
            units = etree.SubElement(q, "units")
            unit = etree.SubElement(units, "unit")
            etree.SubElement(unit, "multiplier").text = "1"
            etree.SubElement(unit, "unit_name").text = item.units
    elif isinstance(item, ShortTextItem):
        etree.SubElement(q, "usecase").text = "1" if item.case_sensitive else "0"
        for text in item.accepted:
            a = _text_el(q, "answer", text)
            a.set("fraction", "100")
    else:
        _text_el(q, "graderinfo", rubric_text(item))
        etree.SubElement(q, "responseformat").text = "plain"
    for hint in item.hints:
        _text_el(q, "hint", hint)
