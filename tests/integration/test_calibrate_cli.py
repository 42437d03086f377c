"""`tutor calibrate --course ID` fits BKT parameters from the attempt log."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.support.ledger import log_answer
from tutor.cli import main
from tutor.records import Records
from tutor.settings import Settings

TRUE = {"prior": 0.3, "learn": 0.2, "guess": 0.15, "slip": 0.1}


def _log_simulated(records: Records, skill: str, learners: int, attempts: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for learner in range(learners):
        known = rng.random() < TRUE["prior"]
        for t in range(attempts):
            p = 1 - TRUE["slip"] if known else TRUE["guess"]
            correct = bool(rng.random() < p)
            log_answer(records, learner_id=f"l{learner}", course_id="mini", skill_id=skill,
                       item_id=f"{skill}-{t % 6}", correct=correct, when=now)
            known = known or rng.random() < TRUE["learn"]


@pytest.fixture
def mini_env(tmp_path: Path, mini_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mini course in a content folder of its own, and an empty data folder, as the CLI's settings."""
    content = tmp_path / "content"
    shutil.copytree(mini_course, content / "mini")
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(content))


@pytest.mark.usefixtures("mini_env")
def test_calibrate_recovers_parameters_from_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = Records(Settings().resolved_database_url)
    _log_simulated(records, "halves", learners=600, attempts=15, seed=1)
    out = tmp_path / "fit.json"
    assert main(["calibrate", "--course", "mini", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "halves" in printed and "guess" in printed
    fitted = json.loads(out.read_text())["halves"]["params"]
    for name in ("learn", "guess", "slip"):
        assert abs(fitted[name] - TRUE[name]) < 0.06, (name, fitted)


@pytest.mark.usefixtures("mini_env")
def test_calibrate_with_an_empty_log_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--course", "mini"]) == 1
    assert "no attempts logged" in capsys.readouterr().out
