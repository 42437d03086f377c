"""Review: free-text answers the grader was unsure of, for instructors and authors to grade with one click.

An unsure answer is not evidence for the mastery gate until a person grades it here. The grade then counts (the
learner sees it, and the gate decides again, at their next turn) and the answer becomes a labelled example of its
item, so the grader learns from it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from tutor.auth import Action
from tutor.course.models import FreeResponseItem
from tutor.records import PendingReview
from tutor.session import Tutor
from ui import auth
from ui.state import get_tutor


def grade(tutor: Tutor, pending: PendingReview, *, correct: bool) -> None:
    """Button callback: record a person's grade (checked against the reviewer's role on the server)."""
    reviewer = auth.require(Action.REVIEW_ANSWERS)
    tutor.records.review(pending.question_id, correct=correct, reviewer=reviewer.id, at=datetime.now(UTC))
    st.session_state["review_done"] = f"Graded {'correct' if correct else 'not correct'}: {pending.item_id}."


def card(tutor: Tutor, pending: PendingReview) -> None:
    course = tutor.courses.get(pending.course_id)
    item = next((i for items in course.items.values() for i in items if i.id == pending.item_id), None) \
        if course else None
    with st.container(border=True, key=f"review-{pending.question_id}"):
        where = f"{course.title if course else pending.course_id} · {pending.skill_id} · question {pending.item_id}"
        st.caption(f"{where} · answered {pending.created_at:%Y-%m-%d %H:%M} UTC")
        if isinstance(item, FreeResponseItem):
            st.markdown(f"**Question.** {item.prompt}")
        st.markdown("**Answer**")
        st.info(pending.answer, icon=":material/edit_note:")
        score = "no score" if pending.confidence is None else f"{pending.confidence:.0%} likely correct"
        st.markdown(f"**Grader:** {score}")
        for reason in pending.reasons:
            st.caption(f"- {reason}")
        if isinstance(item, FreeResponseItem):
            with st.expander("Rubric and model answer"):
                st.markdown("\n".join(f"- {p.point}" for p in item.rubric))
                st.markdown(f"**Model answer.** {item.reference}")
                st.caption(f"{len(item.examples)} authored examples")
        left, right = st.columns(2)
        left.button("Correct", key=f"ok-{pending.question_id}", type="primary", icon=":material/check:",
                    on_click=grade, args=(tutor, pending), kwargs={"correct": True})
        right.button("Not correct", key=f"no-{pending.question_id}", icon=":material/close:",
                     on_click=grade, args=(tutor, pending), kwargs={"correct": False})


def main() -> None:
    auth.require(Action.REVIEW_ANSWERS)
    tutor = get_tutor()
    st.title("Review answers")
    st.markdown("Free-text answers the grader was unsure of. Each waits for you before it counts toward the "
                "learner's mastery; your grade also becomes an example the grader learns from.")
    if done := st.session_state.pop("review_done", None):
        st.success(done, icon=":material/task_alt:")
    pending = tutor.records.pending_reviews(sorted(tutor.courses))
    if not pending:
        st.success("Nothing is waiting for review.", icon=":material/inbox:")
        return
    st.caption(f"{len(pending)} answers waiting, oldest first.")
    for entry in pending:
        card(tutor, entry)


main()
