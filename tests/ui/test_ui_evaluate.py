"""The Evaluate page (AppTest): an eval runs as a subprocess with its output streamed, then its JSON is shown
as tables with the plot beside it and a download button. A stand-in eval module keeps this fast."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui.jobs
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
    """Queue the benchmark, wait for its job to end, and show the page again."""
    at.slider[0].set_value(learners)
    at.number_input[0].set_value(seed)
    next(b for b in at.button if b.label == "Run the mastery benchmark").click()
    at = at.run()
    queue = ui.jobs.get_queue()
    submitted = queue.jobs()
    assert submitted, "no job was queued"
    queue.wait(submitted[0].id, timeout=120)
    return at.run()


def test_the_benchmark_runs_as_a_job_and_its_results_are_shown(evaluate: AppTest, settings: Settings) -> None:
    assert not evaluate.exception
    assert "No results yet: run it above." in [c.value for c in evaluate.caption]
    at = run_benchmark(evaluate, 200, 5)
    assert not at.exception
    out = settings.data_dir / "evals" / "fake_bench.json"
    assert json.loads(out.read_text())["learners"] == 200
    # the job's output log is kept, and the jobs panel says it is done
    job = ui.jobs.get_queue().jobs()[0]
    assert job.status == "done" and job.progress == 1.0
    assert "simulating learner 200/200" in job.log_path.read_text()
    assert any("**Mastery benchmark** · done" in m.value for m in at.markdown)
    # the report as tables: the top-level figures, and one row per course
    tables = [d.value for d in at.dataframe]
    courses = next(t for t in tables if "false_mastery_rate" in t.columns)
    assert sorted(courses[""]) == ["data-privacy", "fractions"]
    assert len(at.image) == 1
    assert [d.label for d in at.download_button] == ["Download JSON"]


def test_a_failing_benchmark_says_so(evaluate: AppTest) -> None:
    at = run_benchmark(evaluate, 100, 13)
    assert not at.exception
    assert any("**Mastery benchmark** · failed" in m.value for m in at.markdown)
    assert any("Failed (exit code 3)" in c.value for c in at.caption)
    assert any("refused to learn" in c.value for c in at.code)


def test_the_per_user_limit_refuses_a_third_job(evaluate: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = ui.jobs.get_queue()
    monkeypatch.setattr(queue, "concurrency", 0)  # nothing starts: every job stays queued
    for _ in range(2):
        next(b for b in evaluate.button if b.label == "Run the mastery benchmark").click()
        evaluate = evaluate.run()
    assert [c.value for c in evaluate.caption if c.value.startswith("Position")] == [
        "Position in the queue: 2", "Position in the queue: 1"]
    next(b for b in evaluate.button if b.label == "Run the mastery benchmark").click()
    at = evaluate.run()
    assert any("the limit is 2" in e.value for e in at.error)
    assert len(queue.jobs()) == 2
    next(b for b in at.button if b.label == "Cancel").click()
    at = at.run()
    assert sorted(j.status for j in queue.jobs()) == ["cancelled", "queued"]
