"""routing.classify: commands, questions to the tutor and answers, for every item kind, and every free-response
item's model answer and labelled examples of the sample courses graded as answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tutor.course.loader import load_course
from tutor.course.models import FreeResponseItem, ShortTextItem
from tutor.grading import SENTENCE_WORDS, reads_as_remark
from tutor.graph.routing import classify

CONTENT = Path(__file__).resolve().parents[2] / "content"
DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"
KINDS = ["multiple_choice", "numeric", "short_text", "free_response"]


def _free_texts() -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for folder in sorted(CONTENT.iterdir()):
        course = load_course(folder)
        for items in course.items.values():
            for item in items:
                if isinstance(item, FreeResponseItem):
                    texts.append((f"{item.id}:reference", item.reference))
                    texts += [(f"{item.id}:example{n}", e.answer) for n, e in enumerate(item.examples)]
    return texts


FREE_TEXTS = _free_texts()


def test_the_sample_courses_have_free_response_items() -> None:
    assert len({name.split(":")[0] for name, _ in FREE_TEXTS}) >= 14


@pytest.mark.parametrize(("name", "text"), FREE_TEXTS, ids=[n for n, _ in FREE_TEXTS])
def test_every_model_answer_and_example_is_graded_as_an_answer(name: str, text: str) -> None:
    assert classify(text, looks_like_answer=False, free_text=True) == "answer"


@pytest.mark.parametrize(
    "text",
    [
        "When I notice the loss I tell the DPO at once so they can judge the risk.",
        "What matters is the risk to people: report it within 72 hours.",
        "Is it personal data? Yes, because the number can be linked to her.",
        "Do nothing until the DPO has assessed it",
        "Explain to the customer why we need their address.",
        "How they are stored matters less than who can reach them.",
        "Can't say for sure, but the legitimate interest basis fits.",
        "Why? Because the purpose was fixed when the data was collected.",
        "I don't know",
        "They should report it within 72 hours?",
    ],
)
def test_free_text_answers_that_start_like_questions_are_answers(text: str) -> None:
    assert classify(text, looks_like_answer=False, free_text=True) == "answer"


@pytest.mark.parametrize(
    "text",
    [
        "What is a DPO?",
        "what does special category data mean",
        "Why does the 72-hour deadline matter?",
        "Can you explain the question again",
        "I don't understand",
        "could you give me an example?",
    ],
)
def test_clear_questions_to_the_tutor_are_questions_while_free_text_is_pending(text: str) -> None:
    assert classify(text, looks_like_answer=False, free_text=True) == "question"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("text", "intent"),
    [("hint", "hint"), ("Give me a hint", "hint"), ("skip", "skip"), ("Skip this.", "skip"),
     ("where am i", "status"), ("How am I doing?", "status")],
)
def test_commands_win_for_every_item_kind(kind: str, text: str, intent: str) -> None:
    free = kind == "free_response"
    assert classify(text, looks_like_answer=False, free_text=free) == intent
    assert classify(text, looks_like_answer=False, free_text=free, as_answer=True) == intent


@pytest.mark.parametrize("kind", KINDS)
def test_questions_are_questions_for_every_item_kind(kind: str) -> None:
    for text in ("What is a denominator?", "why must the parts be equal?", "Can you explain it again"):
        assert classify(text, looks_like_answer=False, free_text=kind == "free_response") == "question"


@pytest.mark.parametrize(
    ("kind", "text"),
    [("multiple_choice", "B"), ("numeric", "3/4"), ("short_text", "denominator"),
     ("free_response", "Report it to the privacy team straight away.")],
)
def test_answers_are_answers_for_every_item_kind(kind: str, text: str) -> None:
    looks = kind in ("multiple_choice", "numeric")
    assert classify(text, looks_like_answer=looks, free_text=kind == "free_response") == "answer"


def test_objective_items_still_treat_question_words_as_questions() -> None:
    # an objective answer is short; "what is..." there is a question, not an answer
    assert classify("what is the bottom number called", looks_like_answer=False) == "question"


@pytest.mark.parametrize("kind", KINDS)
def test_the_answer_box_is_always_an_answer(kind: str) -> None:
    assert classify("What is a DPO?", looks_like_answer=False, free_text=kind == "free_response",
                    as_answer=True) == "answer"


def _short_text_items() -> list[ShortTextItem]:
    return [i for folder in sorted(CONTENT.iterdir()) for items in load_course(folder).items.values() for i in items
            if isinstance(i, ShortTextItem)]


SHORT_TEXT = _short_text_items()
LEARNER_QUESTIONS = [q["q"] for name in ("data-privacy", "fractions") for q in
                     yaml.safe_load((DATASETS / f"retrieval_{name}.yaml").read_text(encoding="utf-8"))["questions"]]


def test_no_accepted_short_text_answer_reads_as_a_remark() -> None:
    assert SHORT_TEXT
    for item in SHORT_TEXT:
        for accepted in item.accepted:
            assert not reads_as_remark(item, accepted), (item.id, accepted)
            assert classify(accepted, looks_like_answer=False) == "answer", (item.id, accepted)


def test_learners_sentences_to_a_short_text_item_are_questions_to_the_tutor() -> None:
    """The labelled learner questions (many without a question mark: "finance asked me to export ..."), typed in
    the chat while a short-text item is open, go to the tutor, not to the grader; short ones are still graded."""
    for item in SHORT_TEXT:
        longest = max(len(a.split()) for a in item.accepted)
        long = [q for q in LEARNER_QUESTIONS if len(q.split()) > max(SENTENCE_WORDS, 2 * longest)]
        assert len(long) > 40, item.id
        for text in long:
            remark = reads_as_remark(item, text)
            assert remark, (item.id, text)
            assert classify(text, looks_like_answer=False, remark=remark) == "question"
            assert classify(text, looks_like_answer=False, remark=remark, as_answer=True) == "answer"
        assert not reads_as_remark(item, "the cc field")  # a short wrong answer is graded


def test_a_sentence_the_items_pattern_accepts_is_an_answer() -> None:
    item = ShortTextItem(id="p", kind="short_text", form="A", prompt="Which field hides the other recipients?",
                         accepted=["bcc"], pattern=r".*\bbcc\b.*")
    assert not reads_as_remark(item, "i would put everyone in the bcc field so nobody sees the others")
    assert reads_as_remark(item, "i would put everyone in the cc field so that they can all see the others")
