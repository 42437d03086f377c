"""`tutor records export`: every issued question, attempt, explanation and decision, as JSON lines or CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support.ledger import log_answer
from tutor.cli import main
from tutor.records import Records
from tutor.settings import Settings


def test_export_lists_questions_and_attempts_by_question_filtered_by_learner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(tmp_path / "content"))
    records = Records(Settings(data_dir=tmp_path / "data").resolved_database_url)
    q1 = log_answer(records, learner_id="ann", course_id="c", skill_id="s", item_id="i1", correct=True, answer="3")
    log_answer(records, learner_id="bob", course_id="c", skill_id="s", item_id="i2", correct=False)
    records.close()
    assert main(["records", "export", "--learner", "ann"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["record"], r["question_id"]) for r in rows] == [("question", q1), ("attempt", q1)]
    assert rows[1]["answer"] == "3" and rows[1]["correct"] is True and rows[1]["grader"] == "rule"
    assert rows[1]["item_id"] == "i1" and rows[1]["params"] == {}
    out = tmp_path / "all.csv"
    assert main(["records", "export", "--course", "c", "--format", "csv", "--out", str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted((r["record"], r["learner_id"]) for r in table) == [
        ("attempt", "ann"), ("attempt", "bob"), ("question", "ann"), ("question", "bob")]
