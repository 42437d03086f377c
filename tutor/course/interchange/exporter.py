"""`tutor content export`: a course's item bank as QTI 2.1 (content package zip) or Moodle XML.

Templated numeric items (fresh numbers each time) have no equivalent in either format and are left out;
a short-text `pattern` and misconception tags are not carried. Each is reported.
"""

from __future__ import annotations

from typing import Literal

from tutor.course.interchange import moodle_xml, qti21
from tutor.course.models import Course, Item, MultipleChoiceItem, NumericItem, ShortTextItem

Format = Literal["qti", "moodle-xml"]


def exportable(course: Course) -> tuple[dict[str, tuple[Item, ...]], list[str]]:
    """Items that can be written, by skill, and a note for each one left out or changed."""
    notes: list[str] = []
    out: dict[str, tuple[Item, ...]] = {}
    for skill, items in course.items.items():
        kept = []
        for item in items:
            if isinstance(item, NumericItem) and item.template is not None:
                notes.append(f"{skill}/{item.id}: a templated item has no equivalent; left out")
                continue
            if isinstance(item, ShortTextItem) and item.pattern:
                notes.append(f"{skill}/{item.id}: its answer pattern is not carried; only the accepted answers are")
            tags = [c.misconception for c in item.choices if c.misconception] \
                if isinstance(item, MultipleChoiceItem) else []
            if item.misconception or tags:
                notes.append(f"{skill}/{item.id}: misconception tags are not carried")
            kept.append(item)
        out[skill] = tuple(kept)
    notes.append("never carried by either format: pass_points, allow_equivalent, require_lowest_terms and "
                 "free-response examples")
    return out, notes


def export_course(course: Course, fmt: Format) -> tuple[bytes, list[str]]:
    items, notes = exportable(course)
    data = qti21.export(items, course.title) if fmt == "qti" else moodle_xml.export(items)
    return data, notes
