"""The Learn page (AppTest, scripted tutor): sign-in, transcript, item widgets, commands, resume, isolation,
and that no answer key ever reaches the page or the session state."""

from __future__ import annotations

import pytest

from tests.ui.conftest import PASSWORD, all_text, click, key, new_app, session_values, sign_in, sign_in_only, use_fake
from tests.ui.fakes import FakeTutor, item_of_kind
from tutor.auth import Role
from tutor.course.models import Course, FreeResponseItem, MultipleChoiceItem, NumericItem, ShortTextItem
from tutor.course.problems import ContentError, Problem
from tutor.settings import Settings
from ui.app import OFFLINE_BANNER


def test_offline_banner_is_shown_when_the_tutor_runs_offline(fake: FakeTutor) -> None:
    at = sign_in_only(new_app(), "alice")
    assert not at.exception
    assert [i.value for i in at.info] == [OFFLINE_BANNER]


def test_no_offline_banner_with_claude(settings: Settings, fractions: Course, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake(monkeypatch, FakeTutor(settings, fractions, [fractions.item("meaning-a1")], offline=False))
    at = sign_in_only(new_app(), "alice")
    assert not at.exception
    assert OFFLINE_BANNER not in [i.value for i in at.info]


def test_an_anonymous_visitor_sees_only_sign_in(fake: FakeTutor) -> None:
    at = new_app().run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert at.text_input(key="sign_in_password").proto.type == at.text_input(key="sign_in_password").proto.PASSWORD
    assert not at.info and fake.starts == 0
    assert "Start learning" not in all_text(at)


@pytest.mark.parametrize(("name", "password"), [("alice", "wrong password"), ("nobody", PASSWORD), ("", ""),
                                                ("robert'); drop table", "x")])
def test_a_wrong_name_or_password_is_refused(fake: FakeTutor, name: str, password: str) -> None:
    from tests.ui.conftest import account

    account("alice")
    at = new_app().run()
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    at = next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception
    assert at.error and at.error[0].value == "Wrong sign-in name or password."
    assert "auth_token" not in at.session_state
    assert fake.starts == 0


def test_names_in_any_script_sign_in_and_are_shown(fake: FakeTutor) -> None:
    at = sign_in_only(new_app(), "李雷")
    assert "Signed in as **李雷** (learner)" in [m.value for m in at.sidebar.markdown]
    at = sign_in(new_app(), "李雷")
    assert not at.exception and fake.starts == 1
    assert set(fake.sessions) == {(key("李雷"), "fractions")}


def test_sign_in_starts_the_course_with_a_streamed_explanation_and_its_sources(fake: FakeTutor) -> None:
    at = sign_in(new_app(), "Alice")
    assert not at.exception
    assert fake.starts == 1
    assert set(fake.sessions) == {(key("alice"), "fractions")}
    page = all_text(at)
    assert "A **fraction** names equal parts of one whole." in page
    sources = [e for e in at.expander if e.label.startswith("Sources")]
    assert [e.label for e in sources] == ["Sources (1)"]
    # the explanation quoted the passage whole: Sources names it instead of repeating it word for word
    assert "A fraction names equal parts of one whole." not in all_text_of(sources[0])
    assert "quoted in full above" in all_text_of(sources[0])
    assert "meaning.md" in all_text_of(sources[0])


def all_text_of(block: object) -> str:
    return "\n".join(str(getattr(n, "value", "")) for n in block)  # type: ignore[attr-defined]


def test_multiple_choice_item_is_a_radio_of_its_choices(fake: FakeTutor, fractions: Course) -> None:
    at = sign_in(new_app(), "alice")
    item = fractions.item("meaning-a1")
    assert isinstance(item, MultipleChoiceItem)
    assert len(at.radio) == 1
    assert at.radio[0].options == [f"{'ABCD'[i]}.  {c.text}" for i, c in enumerate(item.choices)]
    assert at.radio[0].value is None  # nothing chosen for the learner
    assert item.prompt in all_text(at)


@pytest.mark.parametrize(
    ("kind", "widget"),
    [("numeric", "text_input"), ("short_text", "text_input"), ("free_response", "text_area")],
)
def test_each_item_kind_gets_its_widget(
    settings: Settings, fractions: Course, privacy: Course, monkeypatch: pytest.MonkeyPatch, kind: str, widget: str
) -> None:
    item = item_of_kind(privacy if kind in ("free_response", "short_text") else fractions, kind)
    use_fake(monkeypatch, FakeTutor(settings, fractions, [item]))
    at = sign_in(new_app(), "alice")
    assert not at.exception
    assert not at.radio
    answer_widgets = [w for w in getattr(at, widget) if w.key and w.key.startswith("answer-")]
    assert len(answer_widgets) == 1
    assert answer_widgets[0].label == "Your answer"


def test_numeric_item_names_its_units(settings: Settings, fractions: Course, monkeypatch: pytest.MonkeyPatch) -> None:
    item = item_of_kind(fractions, "numeric")
    assert isinstance(item, NumericItem)
    use_fake(monkeypatch, FakeTutor(settings, fractions, [item.model_copy(update={"units": "cm"})]))
    at = sign_in(new_app(), "alice")
    answer = next(w for w in at.text_input if w.key and w.key.startswith("answer-"))
    assert answer.label == "Your answer (in cm)"


def test_a_wrong_answer_is_sent_as_the_choice_text_and_feedback_shows_at_once(
    fake: FakeTutor, fractions: Course
) -> None:
    at = sign_in(new_app(), "alice")
    at.radio[0].set_value(1)  # "8/3", a distractor
    at = click(at, "Submit answer")
    assert not at.exception
    assert fake.sent == [(key("alice"), "fractions", "8/3")]
    assert [e.value for e in at.error] == ["Not quite."]  # an icon replaces the leading ❌
    # the learner's answer is in the transcript, and the next item is asked with a fresh, empty widget
    assert any(m.value == "8/3" for m in at.markdown)
    assert fractions.item("meaning-b1").prompt in all_text(at)
    assert at.radio[0].value is None
    # the gate's reasons are shown in plain words next to the skill map
    assert "- 2 more correct answers on new questions." in [m.value for m in at.markdown]


def test_a_correct_answer_is_acknowledged(fake: FakeTutor) -> None:
    at = sign_in(new_app(), "alice")
    at.radio[0].set_value(0)
    at = click(at, "Submit answer")
    assert [s.value for s in at.success] == ["Correct."]


def test_submitting_nothing_asks_for_an_answer(fake: FakeTutor) -> None:
    at = sign_in(new_app(), "alice")
    at = click(at, "Submit answer")
    assert fake.sent == []
    assert any("Choose or type an answer first" in w.value for w in at.warning)


def test_hint_button_and_chat_commands_reach_the_tutor(fake: FakeTutor) -> None:
    at = sign_in(new_app(), "alice")
    at = click(at, "Hint")
    assert fake.sent[-1][2] == "hint"
    assert ":material/lightbulb: Count the equal parts." in [m.value for m in at.markdown]
    at.chat_input[0].set_value("why is the bottom number 8?").run()
    assert fake.sent[-1][2] == "why is the bottom number 8?"


def test_skill_map_draws_the_prerequisite_graph_with_estimates(fake: FakeTutor, fractions: Course) -> None:
    at = sign_in(new_app(), "alice")
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    dot = charts[0].proto.spec
    for skill in fractions.skills:
        assert f'"{skill.id}"' in dot
        for prerequisite in skill.prerequisites:
            assert f'"{prerequisite}" -> "{skill.id}"' in dot
    assert "20%" in dot
    assert at.get("progress")[0].proto.text == f"0 of {len(fractions.skills)} skills mastered"


def test_a_new_browser_session_resumes_where_the_learner_left_off(fake: FakeTutor, fractions: Course) -> None:
    first = sign_in(new_app(), "alice")
    first.radio[0].set_value(1)
    click(first, "Submit answer")
    second = sign_in(new_app(), "Alice")
    assert not second.exception
    assert fake.starts == 1  # the session was resumed, not restarted
    page = all_text(second)
    assert "Not quite." in [e.value for e in second.error]
    assert fractions.item("meaning-b1").prompt in page
    assert len(second.radio) == 1


def test_a_second_learner_never_sees_the_first_learners_history(fake: FakeTutor) -> None:
    alice = sign_in(new_app(), "alice")
    alice.chat_input[0].set_value("my secret question about pizza").run()
    bob = sign_in(new_app(), "bob")
    assert not bob.exception
    assert "my secret question about pizza" not in all_text(bob)
    assert key("alice") not in session_values(bob)
    assert set(fake.sessions) == {(key("alice"), "fractions"), (key("bob"), "fractions")}


def test_sign_out_forgets_the_learner_in_this_browser_only(fake: FakeTutor) -> None:
    other = sign_in_only(new_app(), "alice")
    at = sign_in_only(new_app(), "alice")
    assert "auth_token" in at.session_state
    at = click(at, "Sign out")
    assert "auth_token" not in at.session_state
    assert [e.value for e in at.error] == ["Not allowed: sign in first."]  # the page itself refuses to run
    at.switch_page("app.py")
    at = at.run()
    assert at.text_input(key="sign_in_name").value == ""
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Start learning" in [b.label for b in other.run().button]  # the other browser is still signed in


def answer_key_strings(item: MultipleChoiceItem | NumericItem | ShortTextItem | FreeResponseItem) -> list[str]:
    """Everything about an item that would give its answer away before it is answered."""
    secrets: list[str] = []
    if item.explanation:
        secrets.append(item.explanation)
    if isinstance(item, MultipleChoiceItem):
        secrets += [c.feedback for c in item.choices if c.feedback]
        secrets += [c.misconception for c in item.choices if c.misconception]
    if isinstance(item, ShortTextItem):
        secrets += item.accepted
    if isinstance(item, FreeResponseItem):
        secrets += [item.reference, *(p.point for p in item.rubric)]
    return secrets


@pytest.mark.parametrize("kind", ["multiple_choice", "short_text", "free_response"])
def test_no_answer_key_in_the_page_or_the_session_state(
    settings: Settings, fractions: Course, privacy: Course, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    item = item_of_kind(privacy if kind in ("free_response", "short_text") else fractions, kind)
    use_fake(monkeypatch, FakeTutor(settings, fractions, [item]))
    at = sign_in(new_app(), "alice")
    assert item.prompt in all_text(at)
    page, state = all_text(at), session_values(at)
    secrets = [s for s in answer_key_strings(item) if s not in item.prompt]  # the prompt may name a phrase
    assert secrets
    for secret in secrets:
        assert secret not in page
        assert secret not in state
    assert "correct" not in state.lower()


class EmptyStore:
    def count(self, course: str | None = None) -> int:
        return 0


def test_a_course_without_loaded_material_says_how_to_load_it(fake: FakeTutor) -> None:
    fake.store = EmptyStore()
    at = sign_in(new_app(), "alice")
    assert any("tutor content load" in w.value for w in at.warning)


def broken(fake: FakeTutor, name: str = "late-course") -> None:
    """The tutor left out a course folder that does not validate (as Tutor does at start-up)."""
    folder = fake.settings.content_dir / name
    fake.broken_courses[folder] = ContentError([Problem(f"{name}/course.yaml", "unknown prerequisite 'nope'")])


def test_a_course_left_out_is_named_to_an_author_on_the_learn_page_and_not_to_a_learner(fake: FakeTutor) -> None:
    broken(fake)
    at = sign_in_only(new_app(), "uma", Role.AUTHOR)
    assert not at.exception
    [warning] = [w.value for w in at.warning]
    assert "late-course" in warning and "Content page" in warning and "tutor content validate" in warning
    assert "Start learning" in [b.label for b in at.button]  # the courses that load still work
    at = sign_in_only(new_app(), "alice")
    assert not at.exception and not at.warning and "late-course" not in all_text(at)


def test_with_every_course_left_out_the_learn_page_names_them_instead_of_saying_there_are_none(
    fake: FakeTutor
) -> None:
    broken(fake)
    fake.courses = {}
    at = sign_in_only(new_app(), "alice")
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert "No course could be loaded" in error and "late-course" in error and "No courses found" not in error
