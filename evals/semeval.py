"""Reading a corpus in the SemEval-2013 Task 7 layout and turning its questions into free-response items.

Layout: `DIR/train/*.xml` and `DIR/test/<split>/*.xml`, one file per question:
`<question id=...><questionText/><referenceAnswers><referenceAnswer/>...</referenceAnswers>
<studentAnswers><studentAnswer accuracy="correct|incorrect"/>...</studentAnswers></question>`
(2-way labels; in 3- or 5-way files every label but "correct" counts as incorrect).

Mechanical rubric rule (no human writes it): the first reference answer is the item's model answer; it is cut into
clauses at punctuation (. , ; : ! ?) and at the words "and", "or", "because", "so", "but", "then"; each clause
with a content word becomes one rubric point, and each of its content words (no stopwords, 3+ letters or a
number) is one of its keywords. The item passes with all points but one (the default `pass_points`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tutor.course.models import Example, FreeResponseItem, RubricPoint
from tutor.llm.offline import content_words

_CLAUSE = re.compile(r"[.,;:!?()]|\b(?:and|or|because|so|but|then)\b", re.IGNORECASE)


class CorpusError(Exception):
    """The corpus folder or one of its files is not in the expected layout; the message names it and the fix."""


@dataclass(frozen=True)
class Answer:
    id: str
    text: str
    correct: bool


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    references: tuple[str, ...]
    answers: tuple[Answer, ...]


def read_question(path: Path) -> Question:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise CorpusError(f"{path}: not readable XML ({exc}); fix or remove the file") from exc
    qid = root.get("id")
    text = (root.findtext("questionText") or "").strip()
    references = tuple((r.text or "").strip() for r in root.iter("referenceAnswer") if (r.text or "").strip())
    if root.tag != "question" or not qid or not references:
        raise CorpusError(f"{path}: expected <question id=...> with at least one <referenceAnswer>")
    answers = []
    for node in root.iter("studentAnswer"):
        label = node.get("accuracy")
        if label is None:
            raise CorpusError(f"{path}: <studentAnswer id={node.get('id')!r}> has no accuracy attribute")
        answers.append(Answer(node.get("id") or "", (node.text or "").strip(), label == "correct"))
    return Question(qid, text, references, tuple(answers))


def read_folder(folder: Path) -> list[Question]:
    if not folder.is_dir() or folder.is_symlink():
        raise CorpusError(f"{folder}: no such folder; give --data a folder with train/*.xml and test/<split>/*.xml")
    files = sorted(p for p in folder.glob("*.xml") if not p.is_symlink())
    if not files:
        raise CorpusError(f"{folder}: no .xml question files")
    return [read_question(p) for p in files]


def test_splits(data: Path) -> list[str]:
    test = data / "test"
    if not test.is_dir():
        raise CorpusError(f"{test}: no test folder; the layout is DIR/train/*.xml and DIR/test/<split>/*.xml")
    return sorted(p.name for p in test.iterdir() if p.is_dir() and not p.is_symlink())


def rubric(reference: str) -> list[RubricPoint]:
    """The mechanical rubric of a reference answer (see the module docstring)."""
    points = []
    for clause in _CLAUSE.split(reference):
        words = content_words(clause)
        if words:
            points.append(RubricPoint(point=clause.strip(), keywords=words))
    return points or [RubricPoint(point=reference, keywords=[reference])]


def item_for(question: Question, examples: list[Example] | None = None) -> FreeResponseItem:
    slug = re.sub(r"[^a-z0-9_-]+", "-", question.id.lower()).strip("-") or "q"
    return FreeResponseItem(kind="free_response", id=slug, form="A", prompt=question.text or question.id,
                            reference=question.references[0], rubric=rubric(question.references[0]),
                            examples=examples or [])


def examples_of(question: Question | None) -> list[Example]:
    if question is None:
        return []
    return [Example(answer=a.text, correct=a.correct) for a in question.answers if a.text]
