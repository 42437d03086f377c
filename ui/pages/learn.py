"""Learn: sign in by name, pick a course, and learn with the tutor until every skill is mastered.

Everything shown is read from `tutor.view(learner, course)` for the learner signed in to this browser session;
the session holds only the learner's id and course. Reopening the page continues where the learner left off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import streamlit as st

from tutor.session import LearnerIdError, SessionView, Tutor, normalise_learner_id
from ui import chat, render
from ui.state import Event, TurnRunner, get_runner, get_tutor

LEARNER = "learner_id"
COURSE = "course_id"
SHOWN_QUESTION = "shown_question_id"
"""The question id this browser session last showed: an answer is sent as an answer to it (a stale tab's answer
is refused by the tutor instead of being graded against another question)."""
COMMANDS_PLACEHOLDER = "Ask a question, or type hint, skip or where am i"
TRANSCRIPT_HEIGHT = 460
"""Pixels: the conversation scrolls (to its newest message) inside this, so the item form and the progress panel
stay in view."""


def sign_out() -> None:
    for key in (LEARNER, COURSE):
        st.session_state.pop(key, None)


def sign_in(tutor: Tutor) -> None:
    st.title("Learn")
    st.markdown(
        "Learn one skill at a time: the tutor explains, asks you questions, and only moves on when you have "
        "shown you have **mastered** the skill. Sign in with your name to start, or to continue where you left off."
    )
    courses = sorted(tutor.courses)
    with st.form("sign-in", border=True):
        name = st.text_input("Your name", max_chars=64, placeholder="e.g. alice", key="sign_in_name")
        course = st.selectbox("Course", courses, format_func=lambda c: tutor.courses[c].title, key="sign_in_course")
        start = st.form_submit_button("Start learning", type="primary", icon=":material/login:")
    st.caption("No password yet: anyone who types your name continues your session, so pick a name of your own.")
    if start:
        try:
            learner = normalise_learner_id(name or "")
        except LearnerIdError as exc:
            st.error(str(exc))
            return
        st.session_state[LEARNER] = learner
        st.session_state[COURSE] = course
        st.rerun()


def sidebar(tutor: Tutor, learner: str, course_id: str) -> None:
    """Who is signed in, the course picker (it changes the course shown) and sign out."""
    courses = sorted(tutor.courses)
    with st.sidebar:
        st.markdown(f"Signed in as **{learner}**")

        def picked() -> None:
            st.session_state[COURSE] = st.session_state["course_picker"]

        st.selectbox("Course", courses, index=courses.index(course_id), key="course_picker",
                     format_func=lambda c: tutor.courses[c].title, on_change=picked)
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
        st.caption(f"Tutor: {'offline (course material)' if tutor.offline else tutor.provider_name}")


def material_missing(tutor: Tutor, course_id: str) -> bool:
    """True when the passage store says it holds nothing for the course."""
    count = getattr(tutor.store, "count", None)
    return callable(count) and count(course_id) == 0


def progress_panel(view: SessionView) -> None:
    """Skill map, course progress and the gate's reasons for the current skill."""
    st.subheader("Your progress")
    st.progress(min(1.0, max(0.0, view.mastered_share)), text=render.progress_text(view.skill_map))
    st.graphviz_chart(render.skill_map_dot(view.skill_map, view.skill_id), width="stretch")
    st.markdown(render.legend_markdown(), unsafe_allow_html=True)
    if view.skill_id:
        current = next((s for s in view.skill_map if s.id == view.skill_id), None)
        title = current.title if current else view.skill_id
        st.markdown(f"**Now:** {title}")
        estimate = current.p_known if current else 0.0
        decision = view.decision if render.decision_is_current(view.decision, current) else None
        summary = render.decision_summary(decision)
        st.caption(f"Mastery estimate {render.percent(estimate)}" + (f" · {summary}" if summary else ""))
        reasons = render.decision_reasons(decision)
        if reasons:
            st.markdown("\n".join(f"- {r}" for r in reasons))
        elif not decision:
            st.caption("Answer a few questions and the tutor will tell you what is still needed for mastery.")
    with st.expander("All skills"):
        for skill in view.skill_map:
            st.markdown(f"- {skill.title}: {render.status_style(skill.status).label}, {render.percent(skill.p_known)}")


def run_turn(runner: TurnRunner, learner: str, course_id: str, turn: Callable[[], Iterator[Event]]) -> int:
    """Play one turn (tutor.start or tutor.send) live; how many events it produced."""
    return chat.play_turn(runner.run(learner, course_id, turn))


def learn(tutor: Tutor, runner: TurnRunner, learner: str, course_id: str) -> None:
    with st.spinner("Finishing your last answer…"):
        if not runner.wait_idle(learner, course_id):
            st.error("The tutor is still busy with your last message; reload the page in a moment.")
            return
    view = tutor.view(learner, course_id)
    answered_to = st.session_state.get(SHOWN_QUESTION)
    st.session_state[SHOWN_QUESTION] = (view.pending or {}).get("question_id")
    left, right = st.columns([3, 2], gap="large")
    with right:
        progress_panel(view)
    with left:
        st.header(view.course.title, divider="gray")
        if material_missing(tutor, course_id):
            st.warning("The teaching material for this course is not loaded, so explanations will be thin. Load it "
                       "with `tutor content load` (`make run` does this).", icon=":material/warning:")
        with st.container(height=TRANSCRIPT_HEIGHT, autoscroll=True, border=False, key="transcript"):
            if not view.started:
                st.caption(view.course.description)
            chat.render_transcript(view.messages, view.pending)
            live = st.container()
        form_slot = st.empty()
        action: chat.ItemAction | None = None
        if view.pending:
            with form_slot.container():
                action = chat.item_form(view.pending, key=str(len(view.messages)))
                if action and action.problem:
                    st.warning(action.problem)
        elif view.complete:
            st.success("You have mastered every skill in this course.", icon=":material/emoji_events:")
    typed = st.chat_input("Course complete" if view.complete else COMMANDS_PLACEHOLDER, max_chars=4000,
                          submit_mode="disable", disabled=view.complete, key="chat_input")
    text = (typed or "").strip() or (action.text if action else None)
    if text:
        form_slot.empty()
        with live:
            if view.pending:  # the question moves from the answer card into the conversation
                with st.chat_message("assistant", avatar=chat.TUTOR_AVATAR):
                    chat.render_body({"role": "tutor", "kind": "item", "item": view.pending})
            with st.chat_message("user", avatar=chat.LEARNER_AVATAR):
                st.markdown(text)
            run_turn(runner, learner, course_id, lambda: tutor.send(learner, course_id, text, question_id=answered_to))
        st.rerun()
    elif view.pending is None and not view.complete:
        with live:
            produced = run_turn(runner, learner, course_id, lambda: tutor.start(learner, course_id))
        if produced:
            st.rerun()


def main() -> None:
    tutor = get_tutor()
    if not tutor.courses:
        st.error(f"No courses found in {tutor.settings.content_dir}. Add a course folder (with a course.yaml) "
                 "and restart the app.")
        return
    learner = st.session_state.get(LEARNER)
    if not learner:
        sign_in(tutor)
        return
    course_id = st.session_state.get(COURSE)
    if course_id not in tutor.courses:
        course_id = sorted(tutor.courses)[0]
        st.session_state[COURSE] = course_id
    sidebar(tutor, learner, course_id)
    learn(tutor, get_runner(), learner, course_id)


main()
