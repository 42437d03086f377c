"""Guards in the graph: the gate's decision is keyed on the answer it just graded, a node cannot set state the
graph drops, and an authored hint that states the answer is not shown.

Once, after a merge, `awaiting_review` was missing from TutorState: LangGraph dropped it without a word, unsure
free-text answers went to the gate, and the gate keyed its decision on the ledger's last graded attempt, another
question that already had a decision: `IntegrityError: UNIQUE constraint failed: decisions.key` (or an IndexError
with no graded attempt yet)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from tests.support.ledger import WHEN, log_answer
from tutor.course.loader import load_course
from tutor.graph import nodes
from tutor.graph.builder import UndeclaredStateKey, build_graph, declared_only
from tutor.graph.state import Context, TutorState
from tutor.llm.offline import OfflineProvider
from tutor.records import GradedAnswer, IssuedQuestion, Records

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini-course"


def _pending_answer(records: Records, skill_id: str, item_id: str) -> str:
    """A question answered with an unsure grade: waiting for a person, not evidence for the gate."""
    question_id = uuid.uuid4().hex
    records.issue_question(IssuedQuestion(
        question_id=question_id, learner_id="ana", course_id="mini", skill_id=skill_id, item_id=item_id,
        form="A", kind="short_text", seed=0, params={}, mode="learn", issued_at=WHEN,
    ))
    records.record_attempt(GradedAnswer(question_id=question_id, answer="the top one", correct=False,
                                        grader="offline", feedback="", created_at=WHEN, confidence=0.5,
                                        pending_review=True))
    return question_id


def test_the_gate_decides_on_the_answer_just_graded_never_on_another_question(tmp_path: Path) -> None:
    records = Records(f"sqlite:///{tmp_path / 'records.db'}")
    context = Context(course=load_course(MINI), provider=OfflineProvider(), store=None,  # type: ignore[arg-type]
                      records=records, clock=lambda: WHEN, max_remediations=2)
    runtime: Runtime[Context] = Runtime(context=context)
    halves = log_answer(records, learner_id="ana", course_id="mini", skill_id="halves", item_id="halves-a2",
                        correct=True)
    state: TutorState = {"learner_id": "ana", "course_id": "mini", "skill_id": "halves",
                         "instance": {"question_id": halves, "item_id": "halves-a2", "seed": 0}}
    nodes.decide(state, runtime)
    words = _pending_answer(records, "words", "words-a1")
    reached: TutorState = {**state, "skill_id": "words",
                           "instance": {"question_id": words, "item_id": "words-a1", "seed": 0}}
    with pytest.raises(nodes.GateWithoutEvidence, match=words):
        nodes.decide(reached, runtime)
    assert [(d.key, d.skill_id) for d in records.decisions("mini")] == [(f"{halves}:decision", "halves")]
    # the attempt graded is the one decided on even when it is not the ledger's last
    adding = log_answer(records, learner_id="ana", course_id="mini", skill_id="adding", item_id="adding-a2",
                        correct=False)
    assert nodes.decide({**state, "instance": {"question_id": halves, "item_id": "halves-a2", "seed": 0}},
                        runtime)["decision"]["status"]
    assert f"{adding}:decision" not in {d.key for d in records.decisions("mini")}


def test_a_node_update_the_state_does_not_declare_is_refused() -> None:
    def sets_a_flag(state: TutorState) -> dict[str, Any]:
        return {"hint_level": 1, "awaiting_reveiw": True}

    with pytest.raises(UndeclaredStateKey, match=r"sets_a_flag returned \['awaiting_reveiw'\]"):
        declared_only(sets_a_flag)({})
    assert declared_only(lambda state: {"hint_level": 1})({}) == {"hint_level": 1}
    wrapped = {name: getattr(spec.runnable, "func", None) for name, spec in build_graph().nodes.items()}
    assert len(wrapped) == 12 and all(hasattr(func, "__wrapped__") for func in wrapped.values())


def test_an_authored_hint_that_states_the_answer_is_not_shown(tmp_path: Path) -> None:
    course_dir = tmp_path / "mini-course"
    shutil.copytree(MINI, course_dir)
    words = course_dir / "items" / "words.yaml"
    words.write_text(words.read_text(encoding="utf-8").replace(
        '    accepted: ["numerator"]\n',
        '    accepted: ["numerator"]\n    hints: ["It is called the numerator.", "Think of what it counts."]\n'),
        encoding="utf-8")
    course = load_course(course_dir)
    shown: list[Any] = []
    context = Context(course=course, provider=OfflineProvider(), store=None,  # type: ignore[arg-type]
                      records=Records(f"sqlite:///{tmp_path / 'records.db'}"), clock=lambda: WHEN,
                      max_remediations=2)
    runtime: Runtime[Context] = Runtime(context=context, stream_writer=shown.append)
    state: TutorState = {"learner_id": "ana", "course_id": "mini", "skill_id": "words", "hint_level": 0,
                         "instance": {"question_id": "q", "item_id": "words-a2", "seed": 0},
                         "pending": {"prompt": "What is the top number of a fraction called?"}}
    first = nodes.hint(state, runtime)
    text = first["messages"][0]["text"]
    assert "Think of what it counts." in text and "numerator" not in text
    assert "last hint" in text  # one hint is left to give, so the first is the last
