"""The grading eval runs end to end on a small slice of SciEntsBank (people's labels, not ours)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import grading_eval
from evals.semeval import item_for, read_folder, rubric

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "semeval-2013-sciEntsBank"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data/semeval-2013-sciEntsBank")


def test_eval_on_a_slice_writes_every_split_and_grader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grading.json"
    assert grading_eval.main(["--data", str(DATA), "--json", str(out), "--limit", "4"]) == 0
    report = json.loads(out.read_text())
    assert set(report["splits"]) == {"unseen-answers", "unseen-questions", "unseen-domains"}
    answers = report["splits"]["unseen-answers"]
    assert answers["questions_with_examples"] == answers["questions"] == 4
    assert report["splits"]["unseen-domains"]["questions_with_examples"] == 0
    for name in ("grader", "keywords", "overlap"):
        figures = answers[name]
        assert figures["answers"] > 10
        assert 0 <= figures["false_pass"] <= 1 and 0 <= figures["macro_f1_all"] <= 1
    assert answers["keywords"]["coverage"] == answers["overlap"]["coverage"] == 1.0  # baselines never abstain
    assert "unseen-answers" in capsys.readouterr().out


def test_a_folder_in_another_layout_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "q.xml").write_text("<question id='q1'><questionText>Why?</questionText></question>")
    assert grading_eval.main(["--data", str(tmp_path)]) == 2
    assert "q.xml" in capsys.readouterr().err


def test_the_mechanical_rubric_has_one_point_per_clause() -> None:
    points = rubric("The water was evaporated, leaving the salt.")
    assert [p.point for p in points] == ["The water was evaporated", "leaving the salt"]
    assert points[0].keywords == ["water", "evaporated"]
    question = read_folder(DATA / "train")[0]
    assert item_for(question).reference == question.references[0]
