"""Loading and validating a course folder. Every problem is collected and reported at once.

`load_course` returns a typed Course or raises ContentError; `validate_course` returns the problems.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from tutor.course import expr
from tutor.course.models import (
    BKTParams,
    Course,
    CourseFile,
    FreeResponseItem,
    Item,
    ItemBankFile,
    MasteryCriterion,
    MultipleChoiceItem,
    NumericItem,
    ShortTextItem,
    SourceSection,
)
from tutor.course.paths import FIX, OutsideFolderError, inside
from tutor.course.problems import ContentError, Problem
from tutor.course.sources import parse_markdown
from tutor.course.templates import TemplateError, instantiate
from tutor.grading import parse_number

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)

MIN_ITEMS = 6
MIN_FORMS = 2
THIN_PASSAGES = 3  # fewer passages than this for a skill: a warning (re-explanations run out)
THIN_STYLES = 2  # fewer explanation styles than this: a warning (a re-explanation cannot change style)
SOURCE_SUFFIXES = (".md", ".markdown", ".txt")
KINDS = "multiple_choice, numeric, short_text, free_response"


def load_course(path: Path) -> Course:
    """Load `path` (a course folder) or raise ContentError listing every problem (warnings do not stop it)."""
    course, problems, _ = _load(path)
    if problems or course is None:
        raise ContentError(problems)
    return course


def validate_course(path: Path, *, with_warnings: bool = False) -> list[Problem]:
    """Every problem in the course folder at `path`; empty when it is valid. `with_warnings` adds the warnings
    (severity "warning": thin skills, items without explanation or hints, YAML commas that may split text)."""
    _, problems, warnings = _load(path)
    return problems + warnings if with_warnings else problems


def load_courses(content_dir: Path) -> tuple[list[tuple[Path, Course]], dict[Path, ContentError]]:
    """The courses under `content_dir` that load, with their folders, and the folders that do not, with why.

    One broken course folder (a new one an author is still writing) does not stop the others: it is logged
    with the validator's first problems and left out, so the app and the terminal still start."""
    loaded: list[tuple[Path, Course]] = []
    broken: dict[Path, ContentError] = {}
    for folder in discover_courses(content_dir):
        try:
            loaded.append((folder, load_course(folder)))
        except ContentError as exc:
            broken[folder] = exc
            log.warning("course folder %s left out: %s", folder, broken_summary(exc))
    return loaded, broken


def broken_summary(exc: ContentError, shown: int = 3) -> str:
    """One line for a course that cannot be loaded: its first problems and the command that lists them all."""
    first = "; ".join(str(p) for p in exc.problems[:shown])
    more = f" (and {len(exc.problems) - shown} more)" if len(exc.problems) > shown else ""
    return f"{len(exc.problems)} problem(s): {first}{more}; run `tutor content validate` to see them all"


def discover_courses(content_dir: Path) -> list[Path]:
    """Course folders (those with a course.yaml) directly under `content_dir`, sorted; a folder that is a link
    out of `content_dir` is left out (`linked_out_courses` names them)."""
    return sorted(p.parent for p in content_dir.glob("*/course.yaml") if _stays(p.parent, content_dir))


def linked_out_courses(content_dir: Path) -> list[OutsideFolderError]:
    """The course folders under `content_dir` that are links leading out of it (refused, never loaded)."""
    refused: list[OutsideFolderError] = []
    for path in sorted(p.parent for p in content_dir.glob("*/course.yaml")):
        try:
            inside(path, content_dir)
        except OutsideFolderError as exc:
            refused.append(exc)
    return refused


def _stays(path: Path, root: Path) -> bool:
    try:
        inside(path, root)
    except OutsideFolderError:
        return False
    return True


# ---------------------------------------------------------------- reading files


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """UTF-8 text of a file, or None with a problem naming the line of the first bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(shown, f"cannot read the file: {exc.strerror}", "check permissions"))
        return None
    try:
        return data.decode("utf-8-sig")  # a leading byte-order mark (some Windows editors) is dropped
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(shown, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", "save the file as UTF-8", line)
        )
        return None


def _files(root: Path, folder: str, pattern: str, problems: list[Problem]) -> list[Path]:
    """`root/folder/pattern`, sorted, without the links that lead out of the course folder (each is a problem)."""
    base = root / folder
    candidates = [base, *sorted(base.glob(pattern))] if base.is_dir() else [base]
    kept: list[Path] = []
    for path in candidates:
        try:
            inside(path, root)
        except OutsideFolderError as exc:
            problems.append(Problem(_rel(path, root), f"{exc.reason}: links may not lead out of the course folder",
                                    FIX))
            if path == base:
                return []
            continue
        if path != base:
            kept.append(path)
    return kept


_FLOW_MAP_LINE = re.compile(r"\{[^}]*,[^}]*\}|\{[^}]*$")


def _comma_trap(text: str, line: int | None) -> str | None:
    """The likely cause when a field YAML did not expect appears on a line written inline in { }: an unquoted
    comma in a value ends it, and the rest is read as another field."""
    if line is None:
        return None
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    if _FLOW_MAP_LINE.search(source):
        return ('a comma inside { } ends the value, and the rest is read as another field: put the text in quotes, '
                'e.g. text: "1/2, not 2/4"')
    return None


def _split_by_commas(node: yaml.Node | None, shown: str) -> list[Problem]:
    """Warnings for lists written inline ([a, b]) of unquoted text: a comma meant inside one entry splits it."""
    found: list[Problem] = []
    todo = [node] if node is not None else []
    seen: set[int] = set()  # an alias can make the node graph recursive
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if (isinstance(value, yaml.SequenceNode) and value.flow_style and len(value.value) > 1
                        and all(isinstance(v, yaml.ScalarNode) and v.style is None and " " in str(v.value)
                                for v in value.value)):
                    parts = " | ".join(str(v.value) for v in value.value)
                    found.append(Problem(shown, f"{key.value}: written inline in [ ], read as {len(value.value)} "
                                         f"entries split at the commas: {parts}",
                                         "if a comma belongs inside an entry, put each entry in quotes or write one "
                                         "per line ('- ...')", value.start_mark.line + 1, str(key.value),
                                         severity="warning"))
                todo.append(value)
        elif isinstance(current, yaml.SequenceNode):
            todo.extend(current.value)
    return found


def _parse_yaml(text: str, shown: str, problems: list[Problem]) -> tuple[Any, yaml.Node | None]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.reader.ReaderError as exc:  # a control character: YAML gives its position, not a line
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problems.append(Problem(shown, f"YAML syntax error: {exc.reason} (character U+{char:04X})",
                                "remove the control character", text[: exc.position].count("\n") + 1))
        return None, None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = mark.line + 1 if mark is not None else None
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
        problems.append(Problem(shown, f"YAML syntax error: {reason}", "fix the indentation or quoting", where))
        return None, None
    except RecursionError:
        problems.append(Problem(shown, "YAML is nested too deeply", "flatten the structure (README: course format)"))
        return None, None
    for key, line in _duplicate_keys(node):
        problems.append(Problem(shown, f"duplicate key {key!r}: YAML would silently keep only the last one",
                                "remove or rename one of them", line, key))
    if not isinstance(data, dict):
        problems.append(Problem(shown, "expected a mapping of fields at the top level", "see README: course format"))
        return None, None
    return data, node


def _duplicate_keys(root: yaml.Node | None) -> list[tuple[str, int]]:
    """Keys that appear twice in one mapping, with the line of the repeat."""
    found: list[tuple[str, int]] = []
    todo = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen_nodes:  # aliases can make the graph cyclic
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        found.append((str(key.value), key.start_mark.line + 1))
                    keys.add(key.value)
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return sorted(found, key=lambda f: f[1])


def line_of(node: yaml.Node | None, loc: Iterable[int | str]) -> int | None:
    """The YAML line of the field at a pydantic-style location (union tags in the path are skipped).

    For a mapping entry this is the line of its key, so `template:` is named rather than the first line under it.
    """
    if node is None:
        return None
    line = node.start_mark.line
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
            if found is not None:
                line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line
    return line + 1


def _hint(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "remove the field or fix its spelling"
    if kind == "missing":
        return "add the field"
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return f"set kind to one of: {KINDS}"
    if kind == "string_pattern_mismatch":
        return "use lowercase letters, digits, '-' and '_' only"
    if kind == "string_type":
        return 'write text; put values YAML reads as numbers or yes/no in quotes, e.g. "3/4" or "12"'
    return "see README: course format"


def _validate(
    model: type[M], data: Any, node: yaml.Node | None, shown: str, problems: list[Problem], text: str = ""
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            field = ".".join(str(p) for p in loc) or None
            line = line_of(node, loc)
            trap = _comma_trap(text, line) if err["type"] in ("extra_forbidden", "missing") else None
            problems.append(Problem(shown, err["msg"], trap or _hint(err), line, field))
        return None


# ---------------------------------------------------------------- checks


def find_cycle(graph: dict[str, Sequence[str]]) -> list[str] | None:
    """A prerequisite cycle as a path [a, b, ..., a], or None when the graph is a DAG."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt in graph and nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in graph:
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def _check_course(course: CourseFile, node: yaml.Node | None, shown: str) -> list[Problem]:
    problems: list[Problem] = []
    ids = [s.id for s in course.skills]
    for skill_id, count in Counter(ids).items():
        if count > 1:
            i = len(ids) - 1 - ids[::-1].index(skill_id)
            problems.append(
                Problem(shown, f"duplicate skill id {skill_id!r}", "give each skill a unique id",
                        line_of(node, ("skills", i, "id")), f"skills.{i}.id")
            )
    known = set(ids)
    for i, skill in enumerate(course.skills):
        for j, pre in enumerate(skill.prerequisites):
            if pre not in known:
                problems.append(
                    Problem(shown, f"skill {skill.id!r} names unknown prerequisite {pre!r}",
                            f"use one of: {', '.join(ids)}", line_of(node, ("skills", i, "prerequisites", j)),
                            f"skills.{i}.prerequisites.{j}")
                )
    cycle = find_cycle({s.id: s.prerequisites for s in course.skills})
    if cycle:
        i = ids.index(cycle[0])
        problems.append(
            Problem(shown, "prerequisite cycle: " + " -> ".join(cycle), "remove one prerequisite in the cycle",
                    line_of(node, ("skills", i, "prerequisites")), f"skills.{i}.prerequisites")
        )
    return problems


def _check_item(item: Item, shown: str, node: yaml.Node | None, index: int) -> list[Problem]:
    """Problems of one item, each pointing at the line and field of the item's part that is wrong."""
    problems: list[Problem] = []

    def add(message: str, hint: str, *part: str | int) -> None:
        loc = ("items", index, *part)
        field = ".".join(str(p) for p in loc)
        problems.append(Problem(shown, f"item {item.id!r}: {message}", hint, line_of(node, loc), field))

    if isinstance(item, MultipleChoiceItem):
        correct = sum(c.correct for c in item.choices)
        if correct == 0:
            add("the answer is not among the choices (no choice is marked correct)", "mark one choice correct: true",
                "choices")
        elif correct > 1:
            add(f"{correct} choices are marked correct", "mark exactly one choice correct: true", "choices")
        texts = [c.text.strip().lower() for c in item.choices]
        if len(set(texts)) != len(texts):
            add("two choices have the same text", "make every choice different", "choices")
    elif isinstance(item, NumericItem):
        if (item.answer is None) == (item.template is None):
            add("needs exactly one of answer or template", "give a fixed answer, or a template with an answer")
        elif isinstance(item.answer, str) and parse_number(item.answer) is None:
            add(f"answer {item.answer!r} is not a number", 'write a number, a fraction "3/4" or a mixed "1 1/2"',
                "answer")
        elif isinstance(item.answer, float) and not math.isfinite(item.answer):
            add(f"answer {item.answer} is not a finite number", "write an ordinary number", "answer")
        if item.template is not None:
            _check_template(item, add)
    elif isinstance(item, ShortTextItem):
        if not item.accepted and not item.pattern:
            add("has no accepted answers and no pattern", "list accepted answers or give a pattern")
        if item.pattern:
            try:
                re.compile(item.pattern)
            except re.error as exc:
                add(f"pattern is not a valid regular expression: {exc}", "fix the pattern", "pattern")
    elif isinstance(item, FreeResponseItem):
        if item.pass_points and item.pass_points > len(item.rubric):
            add(f"pass_points {item.pass_points} is more than the {len(item.rubric)} rubric points",
                "lower pass_points or add rubric points", "pass_points")
        seen: set[str] = set()
        for number, example in enumerate(item.examples):
            said = " ".join(example.answer.lower().split())
            if said in seen:
                add("two examples have the same answer", "remove one, or make them different", "examples", number)
            seen.add(said)
            if said == " ".join(item.reference.lower().split()) and not example.correct:
                add("an example repeats the model answer but is marked wrong", "mark it correct: true or change it",
                    "examples", number)
    return problems


def _check_template(item: NumericItem, add: Callable[..., None]) -> None:
    """Every expression must parse and use known names; then a few instances must come out."""
    template = item.template
    assert template is not None
    defined = set(template.params) | set(template.derived)
    expressions: list[tuple[str, str, tuple[str | int, ...]]] = [
        (f"derived {name}", src, ("template", "derived", name)) for name, src in template.derived.items()
    ]
    expressions += [("constraint", c, ("template", "constraints", i)) for i, c in enumerate(template.constraints)]
    expressions.append(("answer", template.answer, ("template", "answer")))
    broken = False
    for what, source, part in expressions:
        try:
            unknown = expr.names(source) - defined
        except expr.ExpressionError as exc:
            add(f"template {what} {source!r}: {exc}", "use numbers, parameters, + - * / // % **, comparisons, "
                "and/or/not, and gcd, lcm, min, max, abs, frac", *part)
            broken = True
            continue
        if unknown:
            add(f"template {what} {source!r} uses unknown name(s) {', '.join(sorted(unknown))}",
                "define them under params or derived", *part)
            broken = True
    if broken:
        return
    try:
        for seed in range(10):
            instantiate(item, seed)
    except TemplateError as exc:
        message = str(exc)
        part = ("prompt",) if "the prompt uses" in message else (
            ("template", "answer") if message.startswith(("answer expression", "the answer")) else ("template",))
        add(f"template fails: {message}", "fix the template's expressions or ranges", *part)


def _load_items(root: Path, course: CourseFile | None, problems: list[Problem], unreadable: set[str],
                warnings: list[Problem]) -> dict[str, list[Item]]:
    """Every item bank; `unreadable` gets the file stems of banks that could not be read (their items are not
    counted, so no "0 items" follows the file's own problem)."""
    items_by_skill: dict[str, list[Item]] = {}
    seen_ids: dict[str, str] = {}
    skill_ids = {s.id for s in course.skills} if course else set()
    for path in _files(root, "items", "*.y*ml", problems):
        shown = _rel(path, root)
        text = read_text(path, shown, problems)
        if text is None:
            continue
        data, node = _parse_yaml(text, shown, problems)
        if data is None:
            unreadable.add(path.stem)
            continue
        warnings.extend(_split_by_commas(node, shown))
        bank = _validate(ItemBankFile, data, node, shown, problems, text)
        if bank is None:
            unreadable.add(path.stem)
            continue
        if course and bank.skill not in skill_ids:
            # one fix, agreeing with the file's name when that names a skill
            hint = (f"write `skill: {path.stem}` (the skill this file is named after)" if path.stem in skill_ids
                    else f"use one of: {', '.join(sorted(skill_ids))}, and name the file items/<that id>.yaml")
            problems.append(Problem(shown, f"skill {bank.skill!r} is not a skill of the course", hint,
                                    line_of(node, ("skill",)), "skill"))
            unreadable.add(path.stem)
        elif path.stem != bank.skill:
            problems.append(Problem(shown, f"file is named {path.stem!r} but holds skill {bank.skill!r}",
                                    f"rename the file to items/{bank.skill}.yaml", line_of(node, ("skill",)), "skill"))
        for i, item in enumerate(bank.items):
            if item.id in seen_ids:
                problems.append(Problem(shown, f"duplicate item id {item.id!r} (also in {seen_ids[item.id]})",
                                        "give every item in the course a unique id",
                                        line_of(node, ("items", i, "id")), f"items.{i}.id"))
            seen_ids[item.id] = shown
            problems.extend(_check_item(item, shown, node, i))
        items_by_skill.setdefault(bank.skill, []).extend(bank.items)
    return items_by_skill


def _load_sources(root: Path, skill_ids: set[str], problems: list[Problem]) -> list[SourceSection]:
    sections: list[SourceSection] = []
    for path in _files(root, "sources", "*", problems):
        if path.suffix.lower() not in SOURCE_SUFFIXES:
            continue
        shown = _rel(path, root)
        text = read_text(path, shown, problems)
        if text is None:
            continue
        try:
            parsed = parse_markdown(text, path.name)
        except ContentError as exc:
            problems.extend(Problem(shown, p.message, p.hint, p.line, p.field) for p in exc.problems)
            continue
        for section in parsed:
            heading = " > ".join(section.heading_path) or "(top)"
            if not section.skills:
                problems.append(Problem(shown, f"section {heading!r} names no skills",
                                        "add `skills: [...]` to the front matter or a section directive",
                                        section.line))
            for skill in section.skills:
                if skill_ids and skill not in skill_ids:
                    problems.append(Problem(shown, f"section {heading!r} names unknown skill {skill!r}",
                                            f"use one of: {', '.join(sorted(skill_ids))}", section.line, "skills"))
        sections.extend(parsed)
    return sections


def _load(root: Path) -> tuple[Course | None, list[Problem], list[Problem]]:
    problems: list[Problem] = []
    course_path = root / "course.yaml"
    shown = _rel(course_path, root)
    if not root.is_dir():
        message = "not a folder" if root.exists() else "no such folder"
        return None, [Problem(str(root), message, "give the path of a course folder (the one holding course.yaml)")], []
    if not course_path.is_file():
        return None, [Problem(shown, "course.yaml is missing", "create course.yaml (see README: course format)")], []
    try:
        inside(course_path, root)
    except OutsideFolderError as exc:
        return None, [Problem(shown, f"{exc.reason}: links may not lead out of the course folder", FIX)], []
    course: CourseFile | None = None
    node: yaml.Node | None = None
    warnings: list[Problem] = []
    text = read_text(course_path, shown, problems)
    if text is not None:
        data, node = _parse_yaml(text, shown, problems)
        if data is not None:
            warnings.extend(_split_by_commas(node, shown))
            course = _validate(CourseFile, data, node, shown, problems, text)
            if course is not None:
                problems.extend(_check_course(course, node, shown))
    unreadable: set[str] = set()
    items = _load_items(root, course, problems, unreadable, warnings)
    skill_ids = {s.id for s in course.skills} if course else set()
    sources = _load_sources(root, skill_ids, problems)
    if course is None:
        return None, problems, warnings
    for i, skill in enumerate(course.skills):
        bank = items.get(skill.id, [])
        forms = {item.form for item in bank}
        where = f"items/{skill.id}.yaml"
        line, field = line_of(node, ("skills", i, "id")), f"skills.{i}.id"
        warnings.extend(_thin_skill(skill.id, bank, sources, shown, line, field,
                                    _rel(root / "items" / f"{skill.id}.yaml", root)))
        if skill.id in unreadable:
            continue  # its bank has problems of its own above: its items are not counted
        if len(bank) < MIN_ITEMS:
            problems.append(Problem(shown, f"skill {skill.id!r} has {len(bank)} items; at least {MIN_ITEMS} needed",
                                    f"add items to {where}", line, field))
        if len(forms) < MIN_FORMS:
            problems.append(Problem(shown, f"skill {skill.id!r} has {len(forms)} form(s); at least {MIN_FORMS} needed",
                                    f"give items in {where} at least two different `form` labels", line, field))
        if not any(skill.id in s.skills for s in sources):
            problems.append(Problem(shown, f"skill {skill.id!r} has no source material",
                                    "add a file under sources/ whose front matter lists this skill", line, field))
    if problems:
        return None, problems, warnings
    return (
        Course(
            id=course.id,
            title=course.title,
            description=course.description,
            path=str(root.resolve()),
            mastery=course.mastery.apply(MasteryCriterion()),
            bkt=BKTParams().model_copy(update=course.bkt.model_dump(exclude_none=True)) if course.bkt else BKTParams(),
            grading=course.grading,
            skills=tuple(course.skills),
            items={s.id: tuple(items.get(s.id, ())) for s in course.skills},
            sources=tuple(sources),
        ),
        [],
        warnings,
    )


def _thin_skill(skill_id: str, bank: Sequence[Item], sources: Sequence[SourceSection], shown: str,
                line: int | None, field: str, bank_shown: str) -> list[Problem]:
    """Warnings for a skill that will teach thinly: few passages or styles, items without explanation or hints."""
    found: list[Problem] = []
    passages = [s for s in sources if skill_id in s.skills]
    styles = {s.style for s in passages if s.style}
    if passages and len(passages) < THIN_PASSAGES:
        found.append(Problem(shown, f"skill {skill_id!r} has {len(passages)} passage(s); {THIN_PASSAGES} or more let "
                             "a re-explanation use different material", "add sections for this skill under sources/",
                             line, field, "warning"))
    if passages and len(styles) < THIN_STYLES:
        found.append(Problem(shown, f"skill {skill_id!r} has {len(styles)} explanation style(s); {THIN_STYLES} or more "
                             "let a re-explanation change style", "give sections different `style:` directives "
                             "(worked_example, analogy, common_mistakes, ...)", line, field, "warning"))
    for what, missing in (("explanation", [i.id for i in bank if not i.explanation]),
                          ("hints", [i.id for i in bank if not i.hints])):
        if missing:
            found.append(Problem(bank_shown, f"{len(missing)} item(s) without {what}: " + ", ".join(missing),
                                 f"add `{what}:` to each; learners see "
                                 + ("it after answering" if what == "explanation" else "them when they ask for a hint"),
                                 None, what, "warning"))
    return found
