"""The eval runners work end to end on small cases (the figures themselves are checked by running the evals)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from evals import kt_bench, mastery_bench
from evals.simulate import PROFILES, answer, draw_learners
from tutor.course.models import BKTParams

POLICY_KEYS = {"items_mean", "items_median", "false_mastery_rate", "over_practice_mean", "unmastered_rate"}


def test_mastery_bench_writes_the_issue_json_shape_and_a_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mastery.json"
    mastery_bench.main(["--learners", "400", "--seed", "3", "--json", str(out)])
    report = json.loads(out.read_text())
    assert set(report["policies"]) == {"gate", "consecutive-3", "consecutive-5", "bloom-80-of-10", "bkt-0.95"}
    for figures in report["policies"].values():
        assert set(figures) == POLICY_KEYS
        assert 0.0 <= figures["unmastered_rate"] <= 1.0
    assert report["recovery"]["learners"] == 2000
    assert set(report["profiles"]) == {p.name for p in PROFILES}
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "gate" in printed and "false mastery" in printed


def test_mastery_bench_is_reproducible() -> None:
    first = mastery_bench.run(300, seed=5, with_recovery=False)
    second = mastery_bench.run(300, seed=5, with_recovery=False)
    assert first["policies"] == second["policies"]


def test_stricter_policies_declare_fewer_false_masteries() -> None:
    report = mastery_bench.run(3000, seed=1, with_recovery=False)
    policies = report["policies"]
    assert isinstance(policies, dict)
    assert policies["consecutive-5"]["false_mastery_rate"] < policies["consecutive-3"]["false_mastery_rate"]
    assert policies["consecutive-5"]["items_mean"] > policies["consecutive-3"]["items_mean"]


def test_simulated_learners_follow_their_profiles() -> None:
    rng = np.random.default_rng(0)
    learners = draw_learners(4000, BKTParams(), rng)
    known, correct = answer(learners, 30, rng)
    names = [p.name for p in learners.profiles]
    blocked = learners.profile == names.index("missing_prerequisite")
    assert learners.learn[blocked].max() == 0.0
    lucky = learners.profile == names.index("lucky_guesser")
    assert learners.guess[lucky].mean() > learners.guess[~lucky].mean()
    # nobody ever un-learns, and learners with a missing prerequisite almost never know the skill
    assert not (known[:, :-1] & ~known[:, 1:]).any()
    assert known[blocked].mean() < 0.1
    assert correct.mean() > 0.3


def _write_split(folder: Path, seed: int) -> None:
    """A small ASSISTments-shaped split: two skills, learners answering in order."""
    rng = np.random.default_rng(seed)
    for name, learners in (("builder_train.csv", 150), ("builder_test.csv", 60)):
        with (folder / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["user_id", "skill_name", "correct"])
            for user in range(learners):
                for skill, (prior, learn) in {"7": (0.3, 0.2), "82": (0.6, 0.1)}.items():
                    known = rng.random() < prior
                    for _ in range(int(rng.integers(2, 12))):
                        right = rng.random() < (0.9 if known else 0.2)
                        writer.writerow([user, skill, int(right)])
                        known = known or rng.random() < learn


def test_kt_bench_scores_our_bkt_and_reports_a_missing_pybkt(tmp_path: Path) -> None:
    _write_split(tmp_path, seed=0)
    out = tmp_path / "kt.json"
    kt_bench.main(
        ["--data", str(tmp_path), "--json", str(out), "--full", "--num-fits", "2",
         "--pybkt-python", str(tmp_path / "no-such-python")]
    )
    report = json.loads(out.read_text())
    assert report["split"] == "full"
    assert sorted(report["skills"]) == ["7", "82"]
    for name in ("bkt", "bkt_forgets"):
        model = report["models"][name]
        assert 0.6 < model["auc"] <= 1.0
        assert 0.0 < model["rmse"] < 0.5
        assert model["fit_seconds"] > 0
    assert "make kt-bench" in report["models"]["pybkt"]["skipped"]


@pytest.mark.slow
@pytest.mark.skipif(not kt_bench.PYBKT_PYTHON.exists(), reason="no pyBKT venv (make kt-bench creates it)")
def test_kt_bench_runs_pybkt_side_by_side(tmp_path: Path) -> None:
    _write_split(tmp_path, seed=1)
    out = tmp_path / "kt.json"
    kt_bench.main(["--data", str(tmp_path), "--json", str(out), "--skills", "1", "--num-fits", "1", "--no-forgets"])
    report = json.loads(out.read_text())
    pybkt = report["models"]["pybkt"]
    assert "skipped" not in pybkt, pybkt
    assert pybkt["n_test"] == report["models"]["bkt"]["n_test"]
    assert abs(pybkt["auc"] - report["models"]["bkt"]["auc"]) < 0.1
    assert report["speedup"]["bkt"] > 0
