"""Routing: pure functions over state. No LLM is ever asked where to go next."""

from __future__ import annotations

import re
from typing import Literal

from tutor.graph.state import TutorState

Intent = Literal["hint", "skip", "status", "question", "answer"]

_HINT = re.compile(r"^\s*(hint|help|give me a hint|i need a hint|clue)\s*[.!?]*\s*$", re.IGNORECASE)
_SKIP = re.compile(r"^\s*(skip|next|pass|skip (this|it|question))\s*[.!]*\s*$", re.IGNORECASE)
_STATUS = re.compile(
    r"^\s*(where am i|progress|status|how am i doing|my progress|what'?s my progress)\s*[.!?]*\s*$", re.IGNORECASE
)
_QUESTION_START = re.compile(
    r"^\s*(why|how|what|whats|when|where|who|which|can|could|is|are|do|does|should|would|explain"
    r"|i don'?t understand)\b",
    re.IGNORECASE,
)


_REQUEST = re.compile(
    r"^\s*(can you|could you|would you|please (explain|help)|explain (this|that|it|again|the question|what|why|how)\b"
    r"|i don'?t (understand|get (it|this|the question))|i do not understand|what does .+ mean\b)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;](\s|$)")


def _single_sentence(text: str) -> bool:
    """No sentence ends before the last character (an answer often runs to several sentences)."""
    return _SENTENCE_END.search(text.strip()[:-1]) is None


def classify(
    text: str, *, looks_like_answer: bool, free_text: bool = False, as_answer: bool = False, remark: bool = False
) -> Intent:
    """What the learner's message is: a command, a question to the tutor, or an answer to the pending item.

    `looks_like_answer` says whether the text parses as an answer to the pending item (a number, a choice).
    `free_text` says the pending item is a free-response item: then a message is an answer unless it is a
    command or clearly a question to the tutor, i.e. one sentence ending in "?" that starts with a question word,
    or a request to the tutor ("can you explain...", "I don't understand"). So "When I notice the loss I tell the
    DPO..." is graded. `as_answer` (the web page's answer box) makes any message but a command an answer.
    `remark` says the text reads as a remark, not an answer, to the pending short-text item (a sentence; see
    grading.reads_as_remark): a question to the tutor even without a question mark.
    """
    if _HINT.match(text):
        return "hint"
    if _SKIP.match(text):
        return "skip"
    if _STATUS.match(text):
        return "status"
    if as_answer or looks_like_answer:
        return "answer"
    stripped = text.strip()
    if free_text:
        asks = stripped.endswith("?") and _single_sentence(stripped) and _QUESTION_START.match(stripped) is not None
        return "question" if asks or _REQUEST.match(stripped) else "answer"
    if remark or stripped.endswith("?") or _QUESTION_START.match(text) or _REQUEST.match(text):
        return "question"
    return "answer"


def after_pick(state: TutorState) -> Literal["explain", "remediate", "ask", "wait"]:
    if state.get("complete"):
        return "wait"  # a finished course stays open for questions, and for reviews as they fall due
    skill = state.get("skill_id")
    if state.get("mode") == "learn" and skill:
        if not state.get("shown", {}).get(skill, {}).get("styles"):
            return "explain"
        if state.get("reexplain"):
            return "remediate"
    return "ask"


def after_wait(state: TutorState) -> Literal["hint", "skip", "status", "answer_question", "grade", "pick_skill"]:
    intent = state.get("intent")  # set by the wait node from classify()
    if state.get("complete") and not state.get("pending"):  # nothing to answer: questions, or a due review
        return {"question": "answer_question", "status": "status"}.get(  # type: ignore[return-value]
            str(intent), "pick_skill")
    return {
        "hint": "hint",
        "skip": "skip",
        "status": "status",
        "question": "answer_question",
    }.get(str(intent), "grade")  # type: ignore[return-value]


def after_grade(state: TutorState) -> Literal["wait", "gate", "review", "ask"]:
    if state.get("unread"):
        return "wait"
    if state.get("awaiting_review"):  # an unsure free-text grade is no evidence yet: no gate, another question
        return "ask"
    return "gate" if state.get("mode") == "learn" else "review"


def after_gate(state: TutorState) -> Literal["pick_skill", "ask"]:
    """Practice continues on the skill; mastery or a remediation goes back through skill selection, which
    may step back to a prerequisite before the re-explanation."""
    status = (state.get("decision") or {}).get("status")
    return "ask" if status == "practice" else "pick_skill"
