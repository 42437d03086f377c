"""The tutor eval on the Evaluate page (AppTest): it runs as a queued job, its report (a real one,
from the mini course) is rendered as known tables, and earlier runs can be reopened and compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.jobs
import ui.runs
from evals.tutor_eval import load_config, run
from tests.ui.conftest import open_page
from tests.ui.fakes import FakeTutor
from tutor.auth import Role
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FAKE = ui.runs.EvalSpec("tutor_eval", "tests.ui.fake_tutor_eval", "Tutor eval", "A stand-in tutor eval.")


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configs = [load_config(ROOT / "evals" / "configs" / f"{n}.yaml") for n in ("default", "lax-gate")]
    report = run("mini-course", 3, seed=2, configs=configs, workers=1, content_dir=ROOT / "tests" / "fixtures",
                 settings_env=Settings(_env_file=None, anthropic_api_key=None))
    path = tmp_path_factory.mktemp("tutor-eval") / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.fixture
def evaluate(fake: FakeTutor, report_file: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(ui.runs, "TUTOR", FAKE)
    monkeypatch.setenv("TUTOR_EVAL_FIXTURE", str(report_file))
    return open_page("pages/evaluate.py", "ines", Role.INSTRUCTOR)


def run_tutor_eval(at: AppTest, learners: int) -> AppTest:
    form_inputs = [n for n in at.number_input if n.label == "Simulated learners"]
    form_inputs[0].set_value(learners)
    at.multiselect[0].set_value(["default", "lax-gate"])
    next(b for b in at.button if b.label == "Run the tutor eval").click()
    at = at.run()
    queue = ui.jobs.get_queue()
    submitted = [j for j in queue.jobs() if j.kind == "tutor_eval"]
    assert submitted, "no job was queued"
    for job in submitted:
        queue.wait(job.id, timeout=120)
    return at.run()


def test_the_tutor_eval_runs_and_its_report_is_rendered(evaluate: AppTest, settings: Settings) -> None:
    assert not evaluate.exception
    at = run_tutor_eval(evaluate, 3)
    assert not at.exception
    saved = sorted((settings.data_dir / "evals" / "tutor_eval").glob("*.json"))
    assert len(saved) == 1
    meta = json.loads(saved[0].read_text())["meta"]
    assert meta["course"] == "fractions" and [Path(f).name for f in meta["config_files"]] == [
        "default.yaml", "lax-gate.yaml"]
    job = next(j for j in ui.jobs.get_queue().jobs() if j.kind == "tutor_eval")
    assert job.status == "done" and "simulated learner runs 3/3" in job.log_path.read_text()
    tables = [d.value for d in at.dataframe]
    headline = next(t for t in tables if "false mastery" in t.columns and "configuration" in t.columns)
    assert list(headline["configuration"]) == ["default", "lax-gate"]
    differences = next(t for t in tables if "comparison" in t.columns)
    assert "false_mastery_rate" in list(differences["metric"])
    judge = next(t for t in tables if "dimension" in t.columns)
    assert set(judge["source"]) == {"computed", "not run"}
    assert any(d.label == "Download JSON" for d in at.download_button)


def test_earlier_runs_can_be_reopened_and_compared(evaluate: AppTest, settings: Settings) -> None:
    at = run_tutor_eval(evaluate, 3)
    at = run_tutor_eval(at, 2)
    opened = next(s for s in at.selectbox if s.label == "Open a run")
    assert len(opened.options) == 2
    opened.set_value(opened.options[1])
    at = at.run()
    compare = next(m for m in at.multiselect if m.label == "Compare with earlier runs")
    compare.set_value([compare.options[0]])
    at = at.run()
    assert not at.exception
    runs_table = next(d.value for d in at.dataframe if "run" in d.value.columns)
    assert len(set(runs_table["run"])) == 2 and len(runs_table) == 4
