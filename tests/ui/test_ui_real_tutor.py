"""The Learn page on the real tutor (graph, checkpoints, records, passage store; offline provider), in AppTest:
the wiring between the page and tutor.session, and that nothing the page holds gives an answer away."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.conftest import all_text, click, key, new_app, session_values, sign_in
from tutor.course.models import Course, MultipleChoiceItem
from tutor.settings import Settings


@pytest.fixture
def real(settings: Settings, loaded_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real Tutor, built by the app itself, on a private copy of a loaded data folder."""
    data_dir = settings.data_dir
    shutil.copytree(loaded_data_dir, data_dir)
    return data_dir


def pending_choices(at: object) -> list[str]:
    return [o.split(".", 1)[1].strip() for o in at.radio[0].options]  # type: ignore[attr-defined]


def test_the_real_tutor_explains_asks_and_grades_without_leaking_the_key(real: Path, fractions: Course) -> None:
    at = sign_in(new_app(), "Alice", course="fractions")
    assert not at.exception
    page = all_text(at)
    assert "Explanation · " in page
    assert any(e.label.startswith("Sources (") for e in at.expander)
    assert not any("tutor content load" in w.value for w in at.warning)  # the material is loaded
    question = next(c.value for c in at.caption if c.value.startswith("Question "))
    item = fractions.item(question.split()[1])
    if isinstance(item, MultipleChoiceItem):
        assert sorted(pending_choices(at)) == sorted(c.text for c in item.choices)
        secrets = [c.feedback for c in item.choices if c.feedback] + ([item.explanation] if item.explanation else [])
        state = session_values(at)
        for secret in secrets:
            assert secret not in page and secret not in state
        wrong = next(c.text for c in item.choices if not c.correct)
        at.radio[0].set_value(pending_choices(at).index(wrong))
    else:
        next(w for w in at.text_input if w.key and w.key.startswith("answer-")).input("1000")
    at = click(at, "Submit answer")
    assert not at.exception
    assert at.error, "a wrong answer gets feedback at once"
    # the attempt is in the learner records, under the account's id
    from tutor.records import Records

    records = Records(Settings().resolved_database_url)
    try:
        rows = records.attempts("fractions", key("alice"))
    finally:
        records.close()
    assert [(r.item_id, r.correct) for r in rows] == [(item.id, False)]
