"""What every format reader returns: parsed questions in the course's item vocabulary, plus notes.

A reader turns one file into `Parsed`: a list of `Question` (an item's fields without id and form, where it
came from, the category or section it sat in) and `Note`s for everything it could not carry. Nothing is ever
dropped without a note. `html_to_text` and `slug` are shared helpers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import lxml.html
from lxml import etree

from tutor.grading import parse_number

NoteLevel = Literal["unsupported", "changed", "draft"]
"""unsupported: the question was left out; changed: it was imported with something lost or altered;
draft: it became a draft an author must complete (e.g. an essay that needs a rubric)."""


@dataclass(frozen=True)
class Note:
    """One line of an import report: file, where in it (line or element), the question, and what happened."""

    file: str
    where: str
    message: str
    level: NoteLevel = "unsupported"
    question: str = ""

    def __str__(self) -> str:
        name = f" {self.question!r}" if self.question else ""
        return f"{self.file}:{self.where}: [{self.level}]{name} {self.message}"


@dataclass
class Question:
    """One importable question: `fields` are an item's fields (kind, prompt, choices, ...) without id/form."""

    name: str
    fields: dict[str, Any]
    file: str
    where: str
    category: str | None = None
    form: str | None = None
    needs_rubric: bool = False


@dataclass
class Parsed:
    questions: list[Question] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


class FormatError(ValueError):
    """The file is not in the format it claims to be (one line: file, where, what)."""


_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text)) or "&" in text and bool(re.search(r"&[a-z]+;|&#\d+;", text))


def html_to_text(text: str) -> tuple[str, list[str]]:
    """Plain text of an HTML fragment, with images replaced by their alt text.

    Returns the text and a list of problems (images without alt text; images are never carried as files).
    """
    problems: list[str] = []
    if not text.strip():
        return "", problems
    wrapper = lxml.html.fragment_fromstring(text, create_parent="div")
    for img in wrapper.iter("img"):
        alt = (img.get("alt") or "").strip()
        src = img.get("src") or "?"
        if alt:
            problems.append(f"image {src} is not carried; its alt text is used instead")
        else:
            problems.append(f"image {src} has no alt text and cannot be carried")
        img.tail = (f"[image: {alt}]" if alt else "[image]") + (img.tail or "")
    for br in wrapper.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in wrapper.iter("p", "div", "li", "blockquote", "tr"):
        if block is not wrapper:
            block.tail = "\n" + (block.tail or "")
    return clean_space(wrapper.text_content()), problems


def clean_space(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def number_value(text: str) -> float | str | None:
    """A number read from a bank: a float, or "n/d" when a long decimal is a simple fraction written out
    (0.3333333333333333 -> "1/3", as our own export writes exact fractions); None when it is not a number."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    decimals = text.partition(".")[2].split("e")[0].split("E")[0]
    if len(decimals) > 6:
        guess = Fraction(value).limit_denominator(1000)
        if guess.denominator > 1 and abs(float(guess) - value) < 1e-12:
            return f"{guess.numerator}/{guess.denominator}"
    return value


def number_text(answer: float | str) -> str:
    """A numeric answer (a number or an exact fraction text) as a decimal LMSs read."""
    if isinstance(answer, str):
        parsed = parse_number(answer)
        return format(float(parsed.value), ".16g") if parsed is not None else answer
    return format(answer, ".16g")


def slug(text: str, fallback: str = "item") -> str:
    """A course id from any text: lowercase letters, digits, - and _."""
    value = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return value[:60].strip("-_") or fallback


def xml_root(data: bytes, shown: str) -> etree._Element:
    """Parse XML safely (no entities expanded from outside, no network) or raise FormatError with the line."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise FormatError(f"{shown}:{line}: not well-formed XML: {exc.msg}") from exc


def local(element: etree._Element) -> str:
    """An element's tag without its namespace."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if local(c) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def descendants(element: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in element.iter() if local(e) == name]


def line(element: etree._Element) -> str:
    return f"{element.sourceline}" if element.sourceline else local(element)
