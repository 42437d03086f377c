"""IMS QTI 2.1: single items, assessment tests and content packages; read and write.

Read: an `assessmentItem` with one `choiceInteraction` (maxChoices 1) is multiple choice (feedback from
`feedbackInline` in a choice, or a `modalFeedback` whose identifier is the choice's); one `textEntryInteraction`
is numeric (baseType float/integer) or short text (the correct response and every fully credited mapEntry);
one `extendedTextInteraction` is a free response draft. Other interactions (match, gapMatch, hotspot, order,
associate, inlineChoice, drag and drop, ...), several interactions in one item, partial credit, and images
without alt text are reported. An `assessmentTest`'s sections name the skills of the items it references.
Write: a content package zip (imsmanifest.xml, one item file per item, an assessmentTest with a section per
skill and form).
"""

from __future__ import annotations

import copy
import io
import posixpath
import re
import zipfile
from typing import Any

from lxml import etree

from tutor.course.interchange.common import (
    Note,
    Parsed,
    Question,
    child,
    children,
    clean_space,
    descendants,
    html_to_text,
    line,
    local,
    number_text,
    number_value,
)
from tutor.course.interchange.moodle_xml import essay_fields, rubric_text
from tutor.course.models import FreeResponseItem, Item, MultipleChoiceItem, NumericItem, ShortTextItem

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
_SUPPORTED = {"choiceInteraction", "textEntryInteraction", "extendedTextInteraction"}


def parse_files(roots: dict[str, etree._Element], shown: str) -> Parsed:
    """Items and tests by file name (inside a package or alone); tests give sections to the items they use."""
    result = Parsed()
    sections: dict[str, str] = {}
    for name, root in roots.items():
        if local(root) == "assessmentTest":
            for section in descendants(root, "assessmentSection"):
                title = section.get("title") or section.get("identifier") or ""
                for ref in children(section, "assessmentItemRef"):
                    href = posixpath.normpath(posixpath.join(posixpath.dirname(name), ref.get("href", "")))
                    sections[href] = title
            missing = [h for h in sections if h not in roots]
            for href in missing:
                result.notes.append(Note(f"{shown}" if name == shown else f"{shown}/{name}", "assessmentItemRef",
                                         f"references {href}, which is not in the package"))
    for name, root in roots.items():
        if local(root) != "assessmentItem":
            continue
        file = shown if name == shown else f"{shown}/{name}"
        _item(root, file, sections.get(posixpath.normpath(name)), result)
    return result


def _body_text(body: etree._Element) -> tuple[str, list[str]]:
    """Text of an itemBody with interactions replaced: a blank for inline ones, their prompt for block ones."""
    body = copy.deepcopy(body)
    for element in list(body.iter()):
        name = local(element)
        if name.endswith("Interaction"):
            prompt = child(element, "prompt")
            replacement = " _____ " if name == "textEntryInteraction" else ""
            text = replacement + (("\n" + _inner_html(prompt)) if prompt is not None else "")
            parent = element.getparent()
            if parent is None:
                continue
            previous = element.getprevious()
            tail = text + (element.tail or "")
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
            parent.remove(element)
        elif name in ("modalFeedback", "feedbackInline", "feedbackBlock", "rubricBlock"):
            element.getparent().remove(element)  # type: ignore[union-attr]
    return html_to_text(_inner_html(body))


def _inner_html(element: etree._Element) -> str:
    """An element's content as plain HTML (namespaces stripped)."""
    clone = copy.deepcopy(element)
    for e in clone.iter():
        if isinstance(e.tag, str):
            e.tag = local(e)
    etree.cleanup_namespaces(clone)
    inner = (clone.text or "") + "".join(etree.tostring(c, encoding="unicode") for c in clone)
    return inner


def _item(root: etree._Element, file: str, section: str | None, result: Parsed) -> None:
    name = root.get("title") or root.get("identifier") or "item"
    where = f"{line(root)} (assessmentItem {root.get('identifier', '?')})"

    def note(message: str, level: str = "unsupported") -> None:
        result.notes.append(Note(file, where, message, level, name))  # type: ignore[arg-type]

    body = child(root, "itemBody")
    if body is None:
        note("no itemBody")
        return
    interactions = [e for e in body.iter() if local(e).endswith("Interaction")]
    other = [local(e) for e in interactions if local(e) not in _SUPPORTED]
    if other:
        note(f"{', '.join(sorted(set(other)))} cannot be represented")
        return
    if len(interactions) != 1:
        note(f"{len(interactions)} interactions in one item (e.g. a cloze with several gaps) cannot be represented"
             if interactions else "no interaction: not a question")
        return
    interaction = interactions[0]
    prompt, problems = _body_text(body)
    prompt = re.sub(r"\s*_____\s*$", "", prompt)  # an answer box after the question is not a gap in it
    if any("cannot be carried" in p for p in problems):
        note(next(p for p in problems if "cannot be carried" in p))
        return
    for problem in problems:
        note(problem, "changed")
    declaration = next((d for d in children(root, "responseDeclaration")
                        if d.get("identifier") == interaction.get("responseIdentifier")), None)
    correct_el = child(declaration, "correctResponse") if declaration is not None else None
    correct = [clean_space(v.text or "") for v in children(correct_el, "value")] if correct_el is not None else []
    kind = local(interaction)
    fields: dict[str, Any]
    if kind == "choiceInteraction":
        if interaction.get("maxChoices", "1") != "1" or len(correct) != 1:
            note("multiple response (several correct choices) cannot be represented as a single-answer item")
            return
        modal = {m.get("identifier"): html_to_text(_inner_html(m))[0] for m in children(root, "modalFeedback")}
        choices = []
        for choice in descendants(interaction, "simpleChoice"):
            inline = [html_to_text(_inner_html(f))[0] for f in descendants(choice, "feedbackInline")]
            text_el = copy.deepcopy(choice)
            for f in descendants(text_el, "feedbackInline"):
                f.getparent().remove(f)  # type: ignore[union-attr]
            text, choice_problems = html_to_text(_inner_html(text_el))
            if any("cannot be carried" in p for p in choice_problems):
                note(f"choice {choice.get('identifier')}: {choice_problems[0]}")
                return
            ident = choice.get("identifier")
            feedback = " ".join(inline) or modal.get(ident) or None
            choices.append({"text": text, "correct": ident == correct[0], "feedback": feedback})
        fields = {"kind": "multiple_choice", "choices": choices}
    elif kind == "textEntryInteraction":
        base = declaration.get("baseType", "string") if declaration is not None else "string"
        mapping = child(declaration, "mapping") if declaration is not None else None
        entries = [(e.get("mapKey", ""), float(e.get("mappedValue", "0")), e.get("caseSensitive", "true"))
                   for e in (children(mapping, "mapEntry") if mapping is not None else [])]
        top = max([v for _, v, _ in entries], default=1.0)
        accepted = list(dict.fromkeys(correct + [k for k, v, _ in entries if v >= top]))
        partial = [(k, v) for k, v, _ in entries if 0 < v < top]
        for key, value in partial:
            note(f"partial credit ({value:g} of {top:g}) for {key!r} cannot be represented; it counts as wrong",
                 "changed")
        if not accepted:
            note("no correct response")
            return
        if base in ("float", "integer"):
            number = number_value(accepted[0])
            if number is None:
                note(f"cannot read the number {accepted[0]!r}")
                return
            fields = {"kind": "numeric", "answer": number, "tolerance": _tolerance(root)}
            if len(accepted) > 1:
                note(f"only the first correct number ({accepted[0]}) is carried", "changed")
        else:
            lowered = {a.lower() for a in accepted}
            case_sensitive = any(k.lower() in lowered and k not in accepted for k, _ in partial)
            fields = {"kind": "short_text", "accepted": accepted, "case_sensitive": case_sensitive}
    else:
        fields = essay_fields(clean_space(" ".join(html_to_text(_inner_html(r))[0]
                                                   for r in descendants(root, "rubricBlock"))))
    if not prompt:
        note("the question has no text")
        return
    fields["prompt"] = prompt
    modal_texts = {m.get("identifier", ""): html_to_text(_inner_html(m))[0] for m in children(root, "modalFeedback")}
    if modal_texts.get("explanation"):
        fields["explanation"] = modal_texts["explanation"]
    hints = [text for ident, text in sorted(modal_texts.items()) if ident.startswith("hint-") and text]
    if hints:
        fields["hints"] = hints
    needs_rubric = fields["kind"] == "free_response" and not fields.get("rubric")
    result.questions.append(Question(name, fields, file, where, section, needs_rubric=needs_rubric))


def _tolerance(root: etree._Element) -> float:
    """The absolute tolerance of an `<equal toleranceMode="absolute">` in the item's response processing."""
    for equal in descendants(root, "equal"):
        if equal.get("toleranceMode") == "absolute":
            first = (equal.get("tolerance") or "0").split()[0]
            value = number_value(first)
            return abs(value) if isinstance(value, float) else 0.0
    return 0.0


def _tolerance_processing(root: etree._Element, tolerance: float) -> None:
    """Response processing that accepts the correct number within an absolute tolerance (QTI 2.1 `equal`)."""
    rp = etree.SubElement(root, _q("responseProcessing"))
    cond = etree.SubElement(etree.SubElement(rp, _q("responseCondition")), _q("responseIf"))
    equal = etree.SubElement(cond, _q("equal"), toleranceMode="absolute", tolerance=f"{tolerance:g} {tolerance:g}")
    etree.SubElement(equal, _q("variable"), identifier="RESPONSE")
    etree.SubElement(equal, _q("correct"), identifier="RESPONSE")
    out = etree.SubElement(cond, _q("setOutcomeValue"), identifier="SCORE")
    etree.SubElement(out, _q("baseValue"), baseType="float").text = "1"


# ---------------------------------------------------------------- writing


def _nsmap(uri: str) -> Any:
    return {None: uri}  # the default namespace; lxml-stubs type nsmap keys as str only


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def item_xml(item: Item) -> bytes:
    root = etree.Element(_q("assessmentItem"), nsmap=_nsmap(NS), identifier=item.id, title=item.id,
                         adaptive="false", timeDependent="false")
    decl = etree.SubElement(root, _q("responseDeclaration"), identifier="RESPONSE", cardinality="single")
    body = etree.Element(_q("itemBody"))
    if isinstance(item, MultipleChoiceItem):
        decl.set("baseType", "identifier")
        correct = next(i for i, c in enumerate(item.choices) if c.correct)
        etree.SubElement(etree.SubElement(decl, _q("correctResponse")), _q("value")).text = f"choice{correct + 1}"
        inter = etree.SubElement(body, _q("choiceInteraction"), responseIdentifier="RESPONSE", shuffle="true",
                                 maxChoices="1")
        etree.SubElement(inter, _q("prompt")).text = item.prompt
        for i, choice in enumerate(item.choices, 1):
            sc = etree.SubElement(inter, _q("simpleChoice"), identifier=f"choice{i}")
            sc.text = choice.text
            if choice.feedback:
                fb = etree.SubElement(sc, _q("feedbackInline"), outcomeIdentifier="FEEDBACK",
                                      identifier=f"choice{i}", showHide="show")
                fb.text = choice.feedback
    elif isinstance(item, NumericItem | ShortTextItem):
        numeric = isinstance(item, NumericItem)
        decl.set("baseType", "float" if numeric else "string")
        values = [number_text(item.answer if item.answer is not None else 0)] if isinstance(item, NumericItem) \
            else list(item.accepted)
        cr = etree.SubElement(decl, _q("correctResponse"))
        for value in values:
            etree.SubElement(cr, _q("value")).text = value
        p = etree.SubElement(body, _q("p"))
        p.text = item.prompt + " "
        etree.SubElement(p, _q("textEntryInteraction"), responseIdentifier="RESPONSE", expectedLength="15")
    else:
        assert isinstance(item, FreeResponseItem)
        decl.set("baseType", "string")
        rubric = etree.SubElement(body, _q("rubricBlock"), view="scorer")
        etree.SubElement(rubric, _q("p")).text = rubric_text(item)
        inter = etree.SubElement(body, _q("extendedTextInteraction"), responseIdentifier="RESPONSE")
        etree.SubElement(inter, _q("prompt")).text = item.prompt
    etree.SubElement(root, _q("outcomeDeclaration"), identifier="SCORE", cardinality="single", baseType="float")
    root.append(body)
    if isinstance(item, NumericItem) and item.tolerance > 0:
        _tolerance_processing(root, item.tolerance)
    elif not isinstance(item, FreeResponseItem):
        etree.SubElement(root, _q("responseProcessing"),
                         template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct")
    extra = ([("explanation", item.explanation)] if item.explanation else []) + \
        [(f"hint-{n:02d}", hint) for n, hint in enumerate(item.hints, 1)]
    for ident, text in extra:  # shown by an LMS as solution / hints; read back by our import
        etree.SubElement(root, _q("modalFeedback"), outcomeIdentifier="FEEDBACK", identifier=ident,
                         showHide="show").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export(skills: dict[str, tuple[Item, ...]], title: str) -> bytes:
    """A QTI 2.1 content package (zip): items, one assessmentTest with a section per skill and form."""
    buffer = io.BytesIO()
    cp = "http://www.imsglobal.org/xsd/imscp_v1p1"
    manifest = etree.Element(f"{{{cp}}}manifest", nsmap=_nsmap(cp), identifier="manifest")
    etree.SubElement(manifest, f"{{{cp}}}organizations")
    resources = etree.SubElement(manifest, f"{{{cp}}}resources")
    test = etree.Element(_q("assessmentTest"), nsmap=_nsmap(NS), identifier="test", title=title)
    part = etree.SubElement(test, _q("testPart"), identifier="part", navigationMode="nonlinear",
                            submissionMode="individual")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for skill, items in skills.items():
            for form in sorted({i.form for i in items}):
                section = etree.SubElement(part, _q("assessmentSection"), identifier=f"{skill}-{form}",
                                           title=f"{skill}/Form {form}", visible="true")
                for item in (i for i in items if i.form == form):
                    href = f"items/{item.id}.xml"
                    archive.writestr(href, item_xml(item))
                    etree.SubElement(section, _q("assessmentItemRef"), identifier=item.id, href=href)
                    res = etree.SubElement(resources, f"{{{cp}}}resource", identifier=item.id,
                                           type="imsqti_item_xmlv2p1", href=href)
                    etree.SubElement(res, f"{{{cp}}}file", href=href)
        archive.writestr("test.xml", etree.tostring(test, xml_declaration=True, encoding="UTF-8", pretty_print=True))
        res = etree.SubElement(resources, f"{{{cp}}}resource", identifier="test", type="imsqti_test_xmlv2p1",
                               href="test.xml")
        etree.SubElement(res, f"{{{cp}}}file", href="test.xml")
        archive.writestr("imsmanifest.xml",
                         etree.tostring(manifest, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return buffer.getvalue()
