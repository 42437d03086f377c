"""`tutor content import`: read item-bank files, map them onto a course's skills, write or write nothing.

Format by content: GIFT text; Moodle XML (`<quiz>`); IMS QTI 2.1 (`<assessmentItem>`, `<assessmentTest>`, or a
content package zip with `imsmanifest.xml`); QTI 1.2 (`<questestinterop>`, as in Canvas's export zip).
Every question becomes an item (ids from the skill and the question's name, forms from a category/section named
"Form X" or else alternating A/B) or a note in the report. Essays become a pending draft (they need a rubric).
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tutor.authoring import drafts
from tutor.course.interchange import gift, moodle_xml, qti12, qti21
from tutor.course.interchange.bank import add_to_course, existing_items, next_form, skill_and_form, unique_id
from tutor.course.interchange.common import FormatError, Note, Parsed, Question, local, slug, xml_root
from tutor.course.models import CourseFile

MAX_BYTES = 50 * 1024 * 1024


@dataclass
class ImportReport:
    """What an import did: items written per skill, drafts made, notes on what was left out or changed, and the
    problems that stopped it (then nothing was written)."""

    files: list[str]
    added: dict[str, list[str]] = field(default_factory=dict)
    drafts: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.problems:
            out.append(f"import failed, nothing written: {len(self.problems)} problem(s)")
            out += [f"  {p}" for p in self.problems]
        else:
            total = sum(len(v) for v in self.added.values())
            out.append(f"imported {total} item(s) from {', '.join(self.files)}: "
                       + (", ".join(f"{k} +{len(v)}" for k, v in self.added.items()) or "none"))
            if self.drafts:
                out.append(f"{len(self.drafts)} draft(s) to complete and approve: {', '.join(self.drafts)} "
                           "(`tutor content drafts show ID`)")
        if self.notes:
            left_out = sum(n.level == "unsupported" for n in self.notes)
            out.append(f"report: {left_out} question(s) not imported, {len(self.notes) - left_out} other note(s)")
            out += [f"  {n}" for n in self.notes]
        return out


def read_bank(path: Path) -> Parsed:
    """Parse one file in any supported format; raises FormatError with a one-line reason."""
    shown = path.name
    try:
        if path.stat().st_size > MAX_BYTES:
            raise FormatError(f"{shown}: larger than {MAX_BYTES // 2**20} MB; split the bank")
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{shown}: cannot read the file: {exc.strerror}") from exc
    return read_bytes(data, shown)


def read_bytes(data: bytes, shown: str) -> Parsed:
    if data[:4] == b"PK\x03\x04":
        return _read_zip(data, shown)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        root = xml_root(data, shown)
        name = local(root)
        if name == "quiz":
            return moodle_xml.parse_root(root, shown)
        if name in ("assessmentItem", "assessmentTest"):
            return qti21.parse_files({shown: root}, shown)
        if name == "questestinterop":
            return qti12.parse_root(root, shown)
        raise FormatError(f"{shown}:{root.sourceline}: XML root <{name}> is not Moodle XML (<quiz>), QTI 2.1 "
                          "(<assessmentItem>/<assessmentTest>) or QTI 1.2 (<questestinterop>)")
    return gift.parse(data, shown)


def _read_zip(data: bytes, shown: str) -> Parsed:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{shown}: not a readable zip file ({exc})") from exc
    xml_files: dict[str, Any] = {}
    total = 0
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or not name.lower().endswith(".xml"):
            continue
        if name.startswith("/") or ".." in Path(name).parts:
            raise FormatError(f"{shown}: member {name!r} points outside the package; refusing it")
        total += info.file_size
        if total > MAX_BYTES:
            raise FormatError(f"{shown}: unpacks to more than {MAX_BYTES // 2**20} MB of XML; split the bank")
        xml_files[name] = xml_root(archive.read(name), f"{shown}/{name}")
    roots = {name: local(root) for name, root in xml_files.items()}
    if any(r == "questestinterop" for r in roots.values()):
        result = Parsed()
        for name, root in xml_files.items():
            if roots[name] == "questestinterop":
                part = qti12.parse_root(root, f"{shown}/{name}")
                result.questions += part.questions
                result.notes += part.notes
        return result
    qti = {n: r for n, r in xml_files.items() if roots[n] in ("assessmentItem", "assessmentTest")}
    if qti:
        return qti21.parse_files(qti, shown)
    raise FormatError(f"{shown}: the zip holds no QTI 2.1 items or tests and no QTI 1.2 quiz")


def read_course_file(course_dir: Path) -> CourseFile | str:
    """The course's course.yaml, or a one-line reason it cannot be read (items need not be valid yet)."""
    path = course_dir / "course.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        return CourseFile.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        return f"{path}: cannot read the course ({first}); run `tutor content validate {course_dir}`"


def import_banks(
    paths: list[Path], course_dir: Path, course: CourseFile, skill: str | None = None, now: datetime | None = None
) -> ImportReport:
    """Import `paths` into the course at `course_dir`; writes nothing unless the result validates."""
    report = ImportReport(files=[p.name for p in paths])
    questions: list[Question] = []
    for path in paths:
        try:
            parsed = read_bank(path)
        except FormatError as exc:
            report.problems.append(str(exc))
            continue
        questions += parsed.questions
        report.notes += parsed.notes
    if report.problems:
        return report
    skill_ids = {s.id for s in course.skills}
    if skill is not None and skill not in skill_ids:
        report.problems.append(f"--skill {skill!r} is not a skill of course {course.id}; use one of: "
                               f"{', '.join(sorted(skill_ids))}")
        return report
    existing = existing_items(course_dir)
    taken = {str(i.get("id")) for bank in existing.values() for i in bank}
    counts = {s: Counter(str(i.get("form")) for i in existing.get(s, [])) for s in skill_ids}
    items: dict[str, list[dict[str, Any]]] = {}
    essays: dict[str, list[dict[str, Any]]] = {}
    for q in questions:
        name, form = skill_and_form(q.category)
        target = skill or (slug(name) if name else None)
        if target is None:
            report.problems.append(f"{q.file}:{q.where}: question {q.name!r} has no category or section to name "
                                   "its skill; give --skill ID")
            continue
        if target not in skill_ids:
            report.problems.append(f"{q.file}:{q.where}: category {q.category!r} maps to skill {target!r}, which "
                                   f"course {course.id} does not have; add it to course.yaml (with sources) or "
                                   "give --skill ID")
            continue
        form = q.form or form or next_form(counts[target])
        counts[target][form] += 1
        name_id = slug(q.name, "q")
        base = name_id if name_id == q.name else f"{target}-{name_id}"  # a name that is an id (our export) is kept
        item = {"id": unique_id(base, taken), "kind": q.fields["kind"], "form": form,
                **{k: v for k, v in q.fields.items() if k != "kind"}}
        item = _tidy(item)
        if q.needs_rubric:
            essays.setdefault(target, []).append(item)
            report.notes.append(Note(q.file, q.where, f"essay imported as draft item {item['id']}: needs a model "
                                     "answer and a rubric before approval", "draft", q.name))
            continue
        problems = drafts.item_problems(item)
        if problems:
            report.problems += [f"{q.file}:{q.where}: question {q.name!r}: {p}" for p in problems]
            continue
        items.setdefault(target, []).append(item)
    if report.problems:
        return report
    found = add_to_course(course_dir, items)
    if found:
        report.problems += [str(p) for p in found]
        return report
    report.added = {s: [str(i["id"]) for i in v] for s, v in items.items()}
    stamp = now or datetime.now(UTC)
    for target, essay_items in essays.items():
        draft = drafts.Draft(id=drafts.new_draft_id(course_dir, f"import-{target}", stamp), course=course.id,
                             skill=target, origin="import", created=stamp.isoformat(), items=essay_items,
                             note=f"essays imported from {', '.join(report.files)}: write a reference answer and "
                                  "rubric points (with keywords), then approve")
        drafts.save(course_dir, draft)
        report.drafts.append(draft.id)
    return report


def _tidy(item: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional fields so the written YAML reads like a hand-written bank."""
    first = ("id", "kind", "form", "prompt")
    ordered = {**{k: item[k] for k in first if k in item}, **{k: v for k, v in item.items() if k not in first}}
    out = {k: v for k, v in ordered.items() if v not in (None, [], "")}
    if "choices" in out:
        out["choices"] = [{k: v for k, v in c.items() if v not in (None, "") and not (k == "correct" and v is False)}
                          for c in out["choices"]]
    return out
