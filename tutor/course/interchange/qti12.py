"""IMS QTI 1.2 as Canvas exports it (a zip of `<questestinterop>` quizzes): read only.

Canvas names the type in `itemmetadata` (`question_type`): multiple_choice_question and true_false_question
(the `response_label` whose ident a `respcondition` scores 100 is correct; `itemfeedback <ident>_fb` is that
choice's feedback), numerical_question (exact answer with margin, or a range), short_answer_question
(every scored `varequal`), essay_question (a free response draft). The quiz title (or a question group's
section title) is the category. Matching, multiple answers, fill in multiple blanks, multiple dropdowns,
formula, file upload and the rest are reported.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from tutor.course.interchange.common import Note, Parsed, Question, child, children, descendants, html_to_text, line

_SUPPORTED = {"multiple_choice_question", "true_false_question", "numerical_question", "short_answer_question",
              "essay_question"}


def _mattext(element: etree._Element | None) -> tuple[str, list[str]]:
    if element is None:
        return "", []
    texts = descendants(element, "mattext")
    raw = "\n".join(t.text or "" for t in texts)
    if any(t.get("texttype", "text/plain") == "text/html" for t in texts):
        return html_to_text(raw)
    return raw.strip(), []


def _metadata(item: etree._Element) -> dict[str, str]:
    out = {}
    for field in descendants(item, "qtimetadatafield"):
        label, entry = child(field, "fieldlabel"), child(field, "fieldentry")
        if label is not None and entry is not None:
            out[(label.text or "").strip()] = (entry.text or "").strip()
    return out


def parse_root(root: etree._Element, shown: str) -> Parsed:
    """Every `<item>` in the file, wherever it sits (a quiz's sections or a question bank's `objectbank`)."""
    result = Parsed()
    for item in descendants(root, "item"):
        _item(item, shown, _category(item), result)
    return result


def _category(item: etree._Element) -> str | None:
    """The nearest titled question group, else the quiz title, else the question bank's title."""
    for ancestor in item.iterancestors():
        name = etree.QName(ancestor).localname if isinstance(ancestor.tag, str) else ""
        if name == "section" and ancestor.get("ident") != "root_section" and ancestor.get("title"):
            return ancestor.get("title")
        if name == "assessment" and ancestor.get("title"):
            return ancestor.get("title")
        if name == "objectbank":
            return _metadata_of(ancestor).get("bank_title") or ancestor.get("ident")
    return None


def _metadata_of(element: etree._Element) -> dict[str, str]:
    """Metadata fields directly under an element (not those of the items inside it)."""
    out = {}
    for meta in children(element, "qtimetadata"):
        for field in children(meta, "qtimetadatafield"):
            label, entry = child(field, "fieldlabel"), child(field, "fieldentry")
            if label is not None and entry is not None:
                out[(label.text or "").strip()] = (entry.text or "").strip()
    return out


def _scored(item: etree._Element) -> list[tuple[etree._Element, float]]:
    """(conditionvar, score) of each respcondition that sets a score."""
    out = []
    for cond in descendants(item, "respcondition"):
        setvar = child(cond, "setvar")
        var = child(cond, "conditionvar")
        if setvar is None or var is None:
            continue
        try:
            out.append((var, float(setvar.text or "0")))
        except ValueError:
            continue
    return out


def _item(item: etree._Element, shown: str, category: str | None, result: Parsed) -> None:
    meta = _metadata(item)
    kind = meta.get("question_type", "")
    name = item.get("title") or item.get("ident") or "item"
    where = f"{line(item)} (item {item.get('ident', '?')})"

    def note(message: str, level: str = "unsupported") -> None:
        result.notes.append(Note(shown, where, message, level, name))  # type: ignore[arg-type]

    if kind not in _SUPPORTED:
        note(f"{kind.replace('_', ' ') or 'an untyped question'} cannot be represented")
        return
    presentation = child(item, "presentation")
    prompt, problems = _mattext(child(presentation, "material") if presentation is not None else None)
    if any("cannot be carried" in p for p in problems):
        note(next(p for p in problems if "cannot be carried" in p))
        return
    for problem in problems:
        note(problem, "changed")
    feedback = {f.get("ident"): _mattext(f)[0] for f in descendants(item, "itemfeedback")}
    scored = _scored(item)
    fields: dict[str, Any]
    if kind in ("multiple_choice_question", "true_false_question"):
        right = {(v.text or "").strip() for var, score in scored if score >= 100 for v in descendants(var, "varequal")}
        labels = descendants(item, "response_label")
        if len(right) != 1:
            note(f"{len(right)} correct choices; exactly one can be represented")
            return
        choices = []
        for label in labels:
            ident = label.get("ident", "")
            text, label_problems = _mattext(label)
            if any("cannot be carried" in p for p in label_problems):
                note(f"choice {ident}: {label_problems[0]}")
                return
            choices.append({"text": text, "correct": ident in right, "feedback": feedback.get(f"{ident}_fb") or None})
        fields = {"kind": "multiple_choice", "choices": choices}
    elif kind == "numerical_question":
        answers: list[tuple[float, float]] = []
        for var, score in scored:
            if score < 100:
                continue
            exact = [float(v.text or "nan") for v in descendants(var, "varequal")]
            low = [float(v.text or "nan") for v in descendants(var, "vargte")]
            high = [float(v.text or "nan") for v in descendants(var, "varlte")]
            if exact:
                value = exact[0]
                tol = max([abs(value - x) for x in low + high], default=0.0)
                answers.append((value, tol))
            elif low and high:
                answers.append(((low[0] + high[0]) / 2, (high[0] - low[0]) / 2))
        if len(answers) != 1:
            note(f"{len(answers)} correct numbers or ranges; exactly one can be represented")
            return
        fields = {"kind": "numeric", "answer": answers[0][0], "tolerance": answers[0][1]}
    elif kind == "short_answer_question":
        accepted = [(v.text or "").strip() for var, score in scored if score >= 100
                    for v in descendants(var, "varequal")]
        if not accepted:
            note("no correct answer")
            return
        fields = {"kind": "short_text", "accepted": list(dict.fromkeys(accepted))}
    else:
        fields = {"kind": "free_response"}
    general = feedback.get("general_fb") or feedback.get("correct_fb")
    if general and fields["kind"] != "free_response":
        fields["explanation"] = general
    if not prompt:
        note("the question has no text")
        return
    fields["prompt"] = prompt
    result.questions.append(Question(name, fields, shown, where, category,
                                     needs_rubric=fields["kind"] == "free_response"))
