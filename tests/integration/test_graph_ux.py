"""What learners meet in the graph: reasons that survive a prerequisite check, hints that say when they run out."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_graph import courses, make_tutor, store_dir  # noqa: F401  (fixtures)
from tests.support.learner import Clock, answer, drain, pending_instance
from tutor.session import Tutor


def test_after_a_prerequisite_check_the_panel_keeps_the_skills_reasons(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("sam", "mini"))
    while tutor.view("sam", "mini").skill_map[0].status != "mastered":
        drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=True)))
    for _ in range(12):
        if tutor.graph.get_state(tutor._config("sam", "mini")).values.get("mode") == "step_back":
            break
        drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=False)))
    drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=True)))  # the check is passed
    view = tutor.view("sam", "mini")
    assert view.skill_id == "adding"
    assert view.decision, "the panel lost the skill's standing after the prerequisite check"
    assert view.decision["answers_needed"] is not None
    assert any(str(r).startswith("not yet:") for r in view.decision["reasons"])


def test_a_failed_review_gives_reasons_and_a_count_like_the_gate(make_tutor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock = Clock()
    tutor: Tutor = make_tutor(clock)
    drain(tutor.start("di", "mini"))
    while tutor.view("di", "mini").skill_map[0].status != "mastered":
        drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=True)))
    clock.advance(days=2)
    for _ in range(10):
        if tutor.view("di", "mini").skill_id == "halves":
            break
        drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=True)))
    drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=False)))
    decision = tutor.graph.get_state(tutor._config("di", "mini")).values["decision"]
    assert decision["status"] == "remediate"
    needed = decision["answers_needed"]
    assert needed is not None and needed >= 1
    assert decision["reasons"][0] == "let's look at this again: a review answer was wrong, so this skill is open again"
    headline = "not yet: 1 more right answer" if needed == 1 else f"not yet: {needed} more right answers"
    assert any(r.startswith(headline) for r in decision["reasons"]), decision["reasons"]
    assert "the last answer was wrong" in decision["reasons"]


def test_hints_say_when_they_run_out(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("hu", "fractions"))
    item, _ = pending_instance(tutor, "hu", "fractions")
    total = len(item.hints)
    assert total >= 1
    texts = []
    for _ in range(total + 2):
        events = drain(tutor.send("hu", "fractions", "hint"))
        texts.append(next(e["message"]["text"] for e in events if e["type"] == "message"))
    assert all("last hint" not in t for t in texts[: total - 1])
    assert texts[total - 1].endswith("That was the last hint for this question.")
    for after in texts[total:]:
        assert after.startswith("That was the last hint for this question")
        assert item.hints[-1] not in after  # not repeated


def test_a_question_about_another_skill_is_answered_from_that_skills_material(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("qa", "fractions"))
    assert tutor.view("qa", "fractions").skill_id == "meaning"
    events = drain(tutor.send("qa", "fractions", "how do I add 1/3 and 1/4?"))
    reply = next(e["message"] for e in events if e["type"] == "message")
    assert reply["kind"] == "answer"
    sources = [c["source"] for c in reply["citations"]]
    assert "adding-unlike.md" in sources, sources
    assert "meaning.md" not in sources, sources  # not the numerator/denominator paragraph of the current skill


def test_the_question_search_eval_runs_on_its_datasets(tmp_path: Path) -> None:
    from evals.question_search_eval import main
    out = tmp_path / "report.json"
    assert main(["--course", "fractions", "--json", str(out)]) == 0
    import json
    report = json.loads(out.read_text())["courses"]["fractions"]
    favoured, old = report["whole course, skill favoured"], report["current skill first (old)"]
    assert favoured["questions"] == old["questions"] >= 10
    assert 0 <= favoured["hit@3"] <= 1 and favoured["misses"] is not None


def test_a_finished_course_still_answers_questions_and_brings_reviews_back(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock = Clock()
    tutor: Tutor = make_tutor(clock)
    drain(tutor.start("fin", "mini"))
    for _ in range(60):
        if tutor.view("fin", "mini").complete:
            break
        drain(tutor.send("fin", "mini", answer(tutor, "fin", "mini", right=True)))
    assert tutor.view("fin", "mini").complete
    assert drain(tutor.start("fin", "mini")) == []  # opening the page again says nothing new
    events = drain(tutor.send("fin", "mini", "why must the parts be equal?"))
    reply = next(e["message"] for e in events if e["type"] == "message")
    assert reply["kind"] == "answer" and "still open" not in reply["text"]
    clock.advance(days=2)  # reviews fall due
    drain(tutor.start("fin", "mini"))
    view = tutor.view("fin", "mini")
    assert not view.complete and view.pending is not None, "no review after the course was finished"
    assert any("review" in str(m.get("text", "")).lower() for m in view.messages[-3:])


def test_the_reminder_after_an_answer_does_not_say_where_the_question_is(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("rem", "fractions"))
    for text in ("why do the parts have to be equal?", "where am i"):
        events = drain(tutor.send("rem", "fractions", text))
        reply = next(e["message"] for e in events if e["type"] == "message")
        assert "above" not in reply["text"] and "below" not in reply["text"]
        assert "still open" in reply["text"]


def test_a_sentence_typed_in_the_chat_on_a_short_text_item_is_answered_not_graded(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A short-text item is graded by exact match, so a sentence could only be graded wrong: in the chat it is
    taken as a question to the tutor and nothing is recorded; sent from the answer box, it is graded."""
    tutor: Tutor = make_tutor()
    drain(tutor.start("sam", "mini"))
    for _ in range(40):  # answer right until a short-text item is asked
        item, _ = pending_instance(tutor, "sam", "mini")
        if item.kind == "short_text":
            break
        drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=True)))
    assert item.kind == "short_text", "the mini course asks a short-text item"
    pending = tutor.view("sam", "mini").pending
    assert pending is not None
    attempts = len(tutor.records.attempts("mini", "sam"))
    remark = "my teacher always said the bottom part tells you how many pieces there are"
    events = drain(tutor.send("sam", "mini", remark, question_id=pending["question_id"]))
    kinds = [e["message"]["kind"] for e in events if e["type"] == "message"]
    assert "answer" in kinds and "feedback" not in kinds, kinds
    assert len(tutor.records.attempts("mini", "sam")) == attempts
    assert tutor.view("sam", "mini").pending == pending  # still open
    drain(tutor.send("sam", "mini", remark, question_id=pending["question_id"], answer=True))
    recorded = tutor.records.attempts("mini", "sam")
    assert len(recorded) == attempts + 1 and recorded[-1].answer == remark and not recorded[-1].correct
