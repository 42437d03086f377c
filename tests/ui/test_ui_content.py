"""The Content page (AppTest): course validation with every problem listed, source upload into the real
passage store with a progress bar, the store's listing per course and skill, and item analysis."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import MINI_COURSE
from tests.support.ledger import log_answer
from tests.ui.conftest import CONTENT, click, key, open_page, use_fake
from tests.ui.fakes import FakeTutor
from tutor.auth import Role
from tutor.course.loader import load_course
from tutor.retrieval import PassageStore
from tutor.settings import Settings


def content_page() -> AppTest:
    return open_page("pages/content.py", "ana", Role.AUTHOR)


def test_a_broken_course_lists_every_problem_with_file_line_and_fix(fake: FakeTutor, mini_course_copy: Path) -> None:
    fake.settings = fake.settings.model_copy(update={"content_dir": mini_course_copy.parent})
    course_yaml = mini_course_copy / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace("prerequisites: [halves]\n    mastery",
                                                           "prerequisites: [nope]\n    mastery"))
    (mini_course_copy / "items" / "words.yaml").unlink()
    fake.settings = fake.settings.model_copy(update={"content_dir": mini_course_copy.parent})
    at = content_page()
    at.selectbox(key="validate_choice").select("Another folder…").run()
    at.text_input(key="validate_path").input("mini-course").run()
    at = click(at, "Validate")
    assert not at.exception
    assert at.error and "problem(s)" in at.error[0].value
    table = at.table[0].value
    assert list(table.columns) == ["File", "Line", "Field", "Problem", "How to fix"]
    prerequisite = table[table["Problem"].str.contains("unknown prerequisite 'nope'")]
    assert len(prerequisite) == 1
    row = prerequisite.iloc[0]
    assert row["File"] == "mini-course/course.yaml"
    assert row["Line"] == "19"
    assert "use one of: halves, adding, words" in row["How to fix"]
    assert table["Problem"].str.contains("'words'").any()  # the deleted item bank is reported too


def test_a_sample_course_validates_cleanly(fake: FakeTutor) -> None:
    at = content_page()
    at.selectbox(key="validate_choice").select(str(CONTENT / "fractions")).run()
    at = click(at, "Validate")
    assert [s.value for s in at.success] == [f"{CONTENT / 'fractions'}: no problems found."]


def test_a_folder_that_is_not_a_course_says_what_to_give(fake: FakeTutor, tmp_path: Path) -> None:
    fake.settings = fake.settings.model_copy(update={"content_dir": tmp_path})
    at = content_page()
    at.selectbox(key="validate_choice").select("Another folder…").run()
    at.text_input(key="validate_path").input("nowhere").run()
    at = click(at, "Validate")
    assert "give the path of a course folder" in at.table[0].value["How to fix"].iloc[0]


@pytest.mark.parametrize("where", ["outside", "link"])
def test_the_page_only_reaches_folders_inside_the_content_folder(
    where: str, fake: FakeTutor, mini_course_copy: Path, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    fake.settings = fake.settings.model_copy(update={"content_dir": content})
    path = mini_course_copy if where == "outside" else content / "linked"
    if where == "link":
        path.symlink_to(mini_course_copy)
    at = content_page()
    at.selectbox(key="validate_choice").select("Another folder…").run()
    at.text_input(key="validate_path").input(str(path)).run()
    at = click(at, "Validate")
    assert not at.exception and not at.table and not at.success
    expected = f"is a link to {mini_course_copy}, outside {content}" if where == "link" else f"is outside {content}"
    assert [e.value for e in at.error] == [
        f"{path} {expected}: this page only reaches course folders inside the content folder."
    ]


@pytest.mark.parametrize("path", ["/etc", "..", "../../tmp", "escape"])
def test_the_validator_is_confined_to_the_content_folder(fake: FakeTutor, tmp_path: Path, path: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "escape").symlink_to(tmp_path)  # a link inside that points outside
    fake.settings = fake.settings.model_copy(update={"content_dir": content})
    at = content_page()
    at.selectbox(key="validate_choice").select("Another folder…").run()
    at.text_input(key="validate_path").input(path).run()
    at = click(at, "Validate")
    assert not at.exception and not at.table
    assert "this page only reaches course folders inside the content folder" in at.error[0].value


def test_item_analysis_flags_items_that_look_broken(fake: FakeTutor) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for learner in range(6):
        for item, correct in (("meaning-a1", learner >= 2), ("meaning-b1", False), ("meaning-a2", learner >= 3)):
            log_answer(fake.records, learner_id=f"l{learner}", course_id="fractions", skill_id="meaning",
                       item_id=item, kind="multiple_choice", correct=correct, when=now)
    at = content_page()
    assert not at.exception
    assert any("meaning-b1" in w.value and "almost everyone gets this wrong" in w.value for w in at.warning)
    table = next(d.value for d in at.dataframe if "Discrimination" in d.value.columns)
    assert list(table["Item"]) == ["meaning-b1", "meaning-a1", "meaning-a2"]  # flagged first
    assert list(table["Flag"] != "") == [True, False, False]
    assert list(table["Attempts"]) == [6, 6, 6]
    assert table.set_index("Item").loc["meaning-a1", "Share correct"] == pytest.approx(66.7)


def test_upload_adds_material_to_the_store_and_the_listing_shows_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.retrieval import ingest_course, open_store

    mini = load_course(MINI_COURSE)
    tutor = use_fake(monkeypatch, FakeTutor(settings, mini, list(mini.items["halves"])))
    store = open_store(settings)
    ingest_course(store, MINI_COURSE)
    tutor.store = store
    at = content_page()
    assert not at.exception
    per_skill = next(d.value for d in at.dataframe if "Passages" in d.value.columns and "Title" in d.value.columns)
    assert set(per_skill["Skill"]) == {"halves", "adding", "words"}
    assert (per_skill["Passages"] > 0).all()

    notes = b"# Quarters\n\nA quarter is one of four equal parts. Two quarters make one half of the whole.\n"
    at.file_uploader[0].set_value([("quarters.md", notes, "text/markdown"), ("empty.md", b"# Only\n", "text/markdown")])
    at.multiselect(key="upload_skills_mini").set_value(["halves"])
    at = at.run()
    assert not at.exception
    preview = next(d.value for d in at.dataframe if "Starts" in d.value.columns)  # shown before anything is stored
    assert list(preview["Heading"]) == ["Quarters"] and list(preview["Skills"]) == ["halves"]
    assert list(preview["Words"]) == [16] and preview["Starts"][0].startswith("A quarter is one of four")
    assert any("empty.md will be skipped" in w.value for w in at.warning)
    assert "quarters.md" not in {s.source for s in store.list_sources("mini")}
    at = click(at, "Store these passages")
    assert not at.exception
    results = at.table[0].value
    assert dict(zip(results["File"], results["Status"], strict=True)) == {"quarters.md": "added", "empty.md": "skipped"}
    assert any("1 file(s) skipped" in w.value for w in at.warning)
    assert not any("Starts" in d.value.columns for d in at.dataframe)  # the picker is cleared: no preview left
    assert "quarters.md" in {s.source for s in store.list_sources("mini")}
    listing = next(d.value for d in at.dataframe if "Origin" in d.value.columns)
    assert listing.set_index("Source").loc["quarters.md", "Origin"] == "added"
    assert "halves" in listing.set_index("Source").loc["quarters.md", "Skills"]
    count = store.count("mini")
    at.file_uploader[0].set_value([("quarters.md", notes, "text/markdown")])  # the same file again: no change
    at = click(at.run(), "Store these passages")
    assert dict(zip(at.table[0].value["File"], at.table[0].value["Status"], strict=True)) == {
        "quarters.md": "unchanged"}
    assert store.count("mini") == count


@pytest.fixture
def mini_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeTutor, PassageStore]:
    """The fake tutor on the mini course, with the real passage store holding the course's sources."""
    from tutor.retrieval import ingest_course, open_store

    mini = load_course(MINI_COURSE)
    tutor = use_fake(monkeypatch, FakeTutor(settings, mini, list(mini.items["halves"])))
    store = open_store(settings)
    ingest_course(store, MINI_COURSE)
    tutor.store = store
    return tutor, store


def test_an_upload_without_skills_is_previewed_with_warnings_and_cancelling_stores_nothing(
    mini_store: tuple[FakeTutor, PassageStore]
) -> None:
    _, store = mini_store
    before = store.count("mini")
    at = content_page()
    notes = b"# Sixths\n\nA sixth is one of six equal parts.\n\n## Two sixths\n\nTwo sixths make one third.\n"
    at.file_uploader[0].set_value([("sixths.md", notes, "text/markdown")])
    at = at.run()
    assert not at.exception
    preview = next(d.value for d in at.dataframe if "Starts" in d.value.columns)
    assert list(preview["Heading"]) == ["Sixths", "Sixths > Two sixths"]
    assert list(preview["Skills"]) == ["", ""] and list(preview["Style"]) == ["", ""]
    warnings = [w.value for w in at.warning]
    assert any("sixths.md: 2 of 2 passages name no skill" in w for w in warnings)
    assert any("sixths.md: 2 of 2 passages have no style" in w for w in warnings)
    assert store.count("mini") == before  # a preview stores nothing
    at = click(at, "Cancel")
    assert not at.exception
    assert not any("Starts" in d.value.columns for d in at.dataframe)
    assert not at.file_uploader[0].value
    assert store.count("mini") == before
    assert "sixths.md" not in {s.source for s in store.list_sources("mini")}


def test_the_upload_uses_the_settings_ingest_limits(mini_store: tuple[FakeTutor, PassageStore]) -> None:
    tutor, store = mini_store
    tutor.settings = tutor.settings.model_copy(update={"ingest_max_chars": 40})
    at = content_page()
    notes = b"# Quarters\n\nA quarter is one of four equal parts. Two quarters make one half of the whole.\n"
    at.file_uploader[0].set_value([("quarters.md", notes, "text/markdown")])
    at = at.run()
    assert not at.exception
    skipped = next(w.value for w in at.warning if "quarters.md will be skipped" in w.value)
    assert "over the limit of 40" in skipped and "TUTOR_INGEST_MAX_CHARS" in skipped
    assert at.button(key="upload_button").disabled


def test_a_large_upload_is_added_by_a_queued_job(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above `large_upload_mb` the files go to the data folder and `tutor content add` runs as a job (real Chroma
    in the job's process); the page shows the job, and the app's store then lists the new source."""
    import ui.jobs
    from tutor.retrieval import ingest_course, open_store

    mini = load_course(MINI_COURSE)
    tutor = use_fake(monkeypatch, FakeTutor(settings, mini, list(mini.items["halves"])))
    tutor.settings = settings.model_copy(update={"large_upload_mb": 0.00001, "content_dir": MINI_COURSE.parent})
    store = open_store(settings)
    ingest_course(store, MINI_COURSE)
    tutor.store = store
    at = content_page()
    notes = b"# Thirds\n\nA third is one of three equal parts of the whole; three thirds make one whole.\n"
    at.file_uploader[0].set_value([("thirds.md", notes, "text/markdown")])
    at.multiselect(key="upload_skills_mini").set_value(["halves"])
    at = click(at.run(), "Queue these files")
    assert not at.exception
    assert any("queued for adding to the course" in i.value for i in at.info)
    queue = ui.jobs.get_queue()
    job = queue.jobs()[0]
    assert job.kind == "ingest" and job.owner == key("ana")
    ended = queue.wait(job.id, timeout=300)
    assert ended.status == "done", ended.log_path.read_text()
    assert "thirds.md" in {s.source for s in store.list_sources("mini")}
    at = at.run()
    assert any("**Add 1 file(s) to mini** · done" in m.value for m in at.markdown)


def test_a_course_folder_added_while_the_app_runs_is_found_and_loaded_with_one_button(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tutor.course.scaffold import new_course
    from tutor.retrieval import open_store

    content = tmp_path / "content"  # a private content folder: the new course must not land in the project's
    shutil.copytree(MINI_COURSE, content / "mini-course")
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(content))
    settings = settings.model_copy(update={"content_dir": content})
    mini = load_course(MINI_COURSE)
    tutor = use_fake(monkeypatch, FakeTutor(settings, mini, list(mini.items["halves"])))
    tutor.store = open_store(settings)
    new_course(content, "late-course", "Late course")
    at = content_page()
    assert not at.exception
    assert any("late-course" in i.value for i in at.info)
    at = click(at, "Load new courses")
    assert not at.exception
    assert "late-course" in tutor.courses
    assert any("Loaded Late course" in s.value for s in at.success)
    assert tutor.store.count("late-course") > 0  # type: ignore[attr-defined]


def test_item_analysis_counts_each_choice_and_misconception(fake: FakeTutor) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    item = fake.course("fractions").item("meaning-a1")
    wrong = next(c for c in item.choices if not c.correct and c.misconception)  # type: ignore[union-attr]
    right = next(c for c in item.choices if c.correct)  # type: ignore[union-attr]
    for learner, choice in enumerate([wrong, wrong, right]):
        _answer_with_tag(fake, f"l{learner}", choice.text, choice.correct,
                         None if choice.correct else wrong.misconception, now)
    at = content_page()
    assert not at.exception
    choices = next(d.value for d in at.dataframe if "Chosen" in d.value.columns)
    by_choice = choices.set_index("Choice")
    assert by_choice.loc[wrong.text, "Chosen"] == 2 and by_choice.loc[right.text, "Chosen"] == 1
    assert by_choice.loc[wrong.text, "Misconception"] == wrong.misconception
    tags = next(d.value for d in at.dataframe if "Misconception" in d.value.columns and "Times" in d.value.columns)
    assert dict(zip(tags["Misconception"], tags["Times"], strict=True)) == {wrong.misconception: 2}


def _answer_with_tag(fake: FakeTutor, learner: str, answer: str, correct: bool, tag: str | None,
                     when: datetime) -> None:
    import uuid

    from tutor.records.entries import GradedAnswer, IssuedQuestion
    question_id = uuid.uuid4().hex
    fake.records.issue_question(IssuedQuestion(
        question_id=question_id, learner_id=learner, course_id="fractions", skill_id="meaning", item_id="meaning-a1",
        form="A", kind="multiple_choice", seed=0, params={}, mode="learn", issued_at=when))
    fake.records.record_attempt(GradedAnswer(question_id=question_id, answer=answer, correct=correct, grader="rule",
                                             feedback="", created_at=when, misconception=tag))


def test_a_broken_new_course_does_not_stop_the_app_and_the_content_page_shows_its_problems(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real Tutor, built by the app, on a content folder holding the mini course and a brand-new course whose
    course.yaml names a prerequisite that is not a skill."""
    from tests.integration.test_broken_course import broken_new_course

    content = tmp_path / "content"
    shutil.copytree(MINI_COURSE, content / "mini-course")
    broken_new_course(content)
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(content))
    at = content_page()
    assert not at.exception
    [shown] = [e.value for e in at.error]
    assert "Course folder late-course cannot be loaded" in shown and "other courses work" in shown
    assert "the first: late-course/course.yaml" in shown and "nope" in shown  # the validator's own words
    problems = next(d.value for d in at.dataframe if "How to fix" in d.value.columns)
    assert any("nope" in p for p in problems["Problem"]) and all(f.endswith("course.yaml") for f in problems["File"])
    assert not any(b.label == "Load new courses" for b in at.button)  # nothing that loads is offered
    assert at.selectbox(key="sources_course").options == ["Mini fractions"]  # the other course is there


def test_the_preview_is_read_once_per_choice_of_files_and_skills(mini_store: tuple[FakeTutor, PassageStore],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import tutor.retrieval

    calls: list[list[str]] = []
    real = tutor.retrieval.preview_paths

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(list(kwargs.get("skills") or []))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tutor.retrieval, "preview_paths", counting)
    at = content_page()
    notes = b"# Fifths\n\nA fifth is one of five equal parts of the whole.\n"
    at.file_uploader[0].set_value([("fifths.md", notes, "text/markdown")])
    at = at.run().run()  # two reruns with the same files and skills
    assert calls == [[]]
    at.multiselect(key="upload_skills_mini").set_value(["halves"])
    at = at.run()
    assert calls == [[], ["halves"]]
    preview = next(d.value for d in at.dataframe if "Starts" in d.value.columns)
    assert list(preview["Skills"]) == ["halves"]
    at = click(at, "Store these passages")
    assert calls == [[], ["halves"]]
    assert dict(zip(at.table[0].value["File"], at.table[0].value["Status"], strict=True)) == {"fifths.md": "added"}
