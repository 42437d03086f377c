"""The Evaluate page (AppTest): an eval runs as a subprocess with its output streamed, then its JSON is shown
as tables with the plot beside it and a download button. A stand-in eval module keeps this fast."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui.runs
from tests.ui.conftest import open_page
from tests.ui.fakes import FakeTutor
from tutor.auth import Role
from tutor.settings import Settings

FAKE = ui.runs.EvalSpec("fake_bench", "tests.ui.fake_eval", "Mastery benchmark", "A stand-in benchmark.")


@pytest.fixture
def evaluate(fake: FakeTutor, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(ui.runs, "MASTERY", FAKE)
    return open_page("pages/evaluate.py", "ines", Role.INSTRUCTOR)


def run_benchmark(at: AppTest, learners: int, seed: int) -> AppTest:
    at.slider[0].set_value(learners)
    at.number_input[0].set_value(seed)
    next(b for b in at.button if b.label == "Run the mastery benchmark").click()
    return at.run()


def test_the_benchmark_runs_and_its_results_are_shown(evaluate: AppTest, settings: Settings) -> None:
    assert not evaluate.exception
    assert "No results yet: run it above." in [c.value for c in evaluate.caption]
    at = run_benchmark(evaluate, 200, 5)
    assert not at.exception
    out = settings.data_dir / "evals" / "fake_bench.json"
    assert json.loads(out.read_text())["learners"] == 200
    # the subprocess's output was streamed into the page, and the progress bar reached the end
    assert any("simulating learner 200/200" in c.value for c in at.code)
    assert at.progress[0].value == 100
    # the report as tables: the top-level figures, and one row per course
    tables = [d.value for d in at.dataframe]
    courses = next(t for t in tables if "false_mastery_rate" in t.columns)
    assert sorted(courses[""]) == ["data-privacy", "fractions"]
    assert len(at.image) == 1
    assert [d.label for d in at.download_button] == ["Download JSON"]


def test_a_failing_benchmark_says_so(evaluate: AppTest) -> None:
    at = run_benchmark(evaluate, 100, 13)
    assert not at.exception
    assert [s.label for s in at.status] == ["Mastery benchmark failed (exit code 3)"]
    assert any("refused to learn" in c.value for c in at.code)
