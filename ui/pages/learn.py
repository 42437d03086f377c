"""Learn: pick a course and learn with the tutor until every skill is mastered.

The learner is always the signed-in account (its records key); everything shown is read from
`tutor.view(learner, course)`. Reopening the page continues where the learner left off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import streamlit as st

from tutor.auth import Action
from tutor.session import SessionView, Tutor
from ui import auth, chat, render
from ui.org import completion_download
from ui.state import Event, TurnRunner, get_runner, get_tutor

COURSE = "course_id"
# The question id this browser session last showed: an answer is sent as an answer to it (a stale tab's answer is
# refused by the tutor instead of being graded against another question). A comment: Streamlit shows bare strings.
SHOWN_QUESTION = "shown_question_id"
COMMANDS_PLACEHOLDER = "Ask a question, or type hint, skip or where am i"
TRANSCRIPT_HEIGHT = 460  # pixels: earlier turns scroll inside this; the latest turn and the question stay in view
COMPLETE_PLACEHOLDER = "Ask a question about the course"
PHONE_CSS = """<style>
@media (max-width: 640px) {
  /* columns stack on a phone, and a page with a chat box opens at its bottom: put the progress panel first,
     so the bottom of the page is the conversation and the question, not the skill map */
  [data-testid="stHorizontalBlock"]:has(.st-key-latest-turn) { flex-wrap: wrap-reverse !important; }
}
</style>"""


def left_out(tutor: Tutor) -> str:
    """The course folders left out because they do not validate, as one line naming them and where to look."""
    names = ", ".join(sorted(folder.name for folder in tutor.broken_courses))
    return (f"Course folder(s) left out because they do not validate: {names}. The Content page lists their "
            "problems (or run `tutor content validate FOLDER`); once fixed, load them there.")


def choose_course(tutor: Tutor, name: str, *, manages_content: bool = False) -> None:
    st.title("Learn")
    if manages_content and tutor.broken_courses:  # learners cannot fix a course: only those who can are told
        st.warning(left_out(tutor), icon=":material/error:")
    st.markdown(
        f"Welcome, **{name}**. Learn one skill at a time: the tutor explains, asks you questions, and only moves on "
        "when you have shown you have **mastered** the skill. Pick a course to start, or to continue where you "
        "left off."
    )
    courses = sorted(tutor.courses)
    with st.form("choose-course", border=True):
        course = st.selectbox("Course", courses, format_func=lambda c: tutor.courses[c].title, key="sign_in_course")
        start = st.form_submit_button("Start learning", type="primary", icon=":material/login:")
    if start:
        st.session_state[COURSE] = course
        st.query_params["course"] = course  # a reload comes back to this course (the URL names no learner)
        st.rerun()


def sidebar(tutor: Tutor, course_id: str) -> None:
    """The course picker (it changes the course shown) and the provider in use."""
    courses = sorted(tutor.courses)
    with st.sidebar:

        def picked() -> None:
            st.session_state[COURSE] = st.query_params["course"] = st.session_state["course_picker"]

        st.selectbox("Course", courses, index=courses.index(course_id), key="course_picker",
                     format_func=lambda c: tutor.courses[c].title, on_change=picked)
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
            st.markdown(f"- {skill.title}: {render.skill_standing(skill)}")


def run_turn(runner: TurnRunner, learner: str, course_id: str, turn: Callable[[], Iterator[Event]]) -> int:
    """Play one turn (tutor.start or tutor.send) live; how many events it produced."""
    return chat.play_turn(runner.run(learner, course_id, turn))


def learn(tutor: Tutor, runner: TurnRunner, learner: str, course_id: str) -> None:
    with st.spinner("Finishing your last answer…"):
        if not runner.wait_idle(learner, course_id):
            st.error("The tutor is still busy with your last message; reload the page in a moment.")
            return
    view = tutor.view(learner, course_id)
    st.html(PHONE_CSS)
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
        earlier, latest = render.split_latest_turn(view.messages)
        if earlier:
            with st.container(height=TRANSCRIPT_HEIGHT, autoscroll=True, border=False, key="transcript"):
                asked_later = any(m.get("kind") == "item" for m in latest)
                chat.render_transcript(earlier, None if asked_later else view.pending)
        if not view.started:
            st.caption(view.course.description)
        # the latest turn (the learner's message and the replies to it) is outside the scrolling box, right above
        # the question, so new feedback is in view even after scrolling the conversation up
        with st.container(key="latest-turn"):
            chat.render_transcript(latest, view.pending)
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
    typed = st.chat_input(COMPLETE_PLACEHOLDER if view.complete else COMMANDS_PLACEHOLDER, max_chars=4000,
                          submit_mode="disable", key="chat_input")
    text = (typed or "").strip() or (action.text if action else None)
    if text:
        form_slot.empty()
        with live:
            if view.pending:  # the question moves from the answer card into the conversation
                with st.chat_message("assistant", avatar=chat.TUTOR_AVATAR):
                    chat.render_body({"role": "tutor", "kind": "item", "item": view.pending})
            with st.chat_message("user", avatar=chat.LEARNER_AVATAR):
                st.markdown(render.plain_text(text))
            from_box = not (typed or "").strip()  # the answer box: always an answer (commands still work)
            run_turn(runner, learner, course_id,
                     lambda: tutor.send(learner, course_id, text, question_id=answered_to, answer=from_box))
        st.rerun()
    elif view.pending is None and not view.complete:
        with live:
            produced = run_turn(runner, learner, course_id, lambda: tutor.start(learner, course_id))
        if produced:
            st.rerun()


def main() -> None:
    tutor = get_tutor()
    if not tutor.courses:
        if tutor.broken_courses:
            st.error(f"No course could be loaded from {tutor.settings.content_dir}. {left_out(tutor)}")
        else:
            st.error(f"No courses found in {tutor.settings.content_dir}. Add a course folder (with a course.yaml) "
                     "and restart the app.")
        return
    account = auth.require(Action.LEARN)
    learner = account.learner_key  # always the signed-in account's own records: no name is ever typed here
    course_id = st.session_state.get(COURSE) or st.query_params.get("course")
    if course_id not in tutor.courses:
        choose_course(tutor, account.display_name, manages_content=auth.may(account, Action.CONTENT_VALIDATE))
        return
    st.session_state[COURSE] = course_id
    sidebar(tutor, course_id)
    with st.sidebar:
        completion_download(tutor, course_id, learner, account.display_name, key="learn_completion")
    learn(tutor, get_runner(), learner, course_id)


main()
