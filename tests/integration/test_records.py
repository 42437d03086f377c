"""Learner records in a real SQLite file: idempotent writes, per-learner reads, item analysis."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tutor.records import Records, item_analysis

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _attempt(records: Records, key: str, learner: str, item: str, correct: bool) -> bool:
    return records.add_attempt(key=key, learner_id=learner, course_id="c", skill_id="s", item_id=item, form="A",
                               kind="numeric", params={}, answer="1", correct=correct, created_at=NOW)


def test_a_rerun_write_with_the_same_key_is_ignored_and_nothing_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    records = Records(url)
    assert _attempt(records, "k1", "ann", "i1", True)
    assert not _attempt(records, "k1", "ann", "i1", False)  # the node re-ran after a crash: no duplicate
    assert _attempt(records, "k2", "ann", "i2", False)
    records.close()
    reopened = Records(url)
    rows = reopened.attempts("c", "ann")
    assert [(r.item_id, r.correct) for r in rows] == [("i1", True), ("i2", False)]


def test_reads_are_per_learner(tmp_path: Path) -> None:
    records = Records(f"sqlite:///{tmp_path / 'r.db'}")
    _attempt(records, "a", "ann", "i1", True)
    _attempt(records, "b", "bob", "i1", False)
    assert [r.learner_id for r in records.attempts("c", "ann")] == ["ann"]
    assert len(records.attempts("c")) == 2


def test_item_analysis_flags_a_broken_key_and_negative_discrimination(tmp_path: Path) -> None:
    records = Records(f"sqlite:///{tmp_path / 'r.db'}")
    n = 0
    # ten learners: the strong ones (0-4) get the good items right, the weak ones (5-9) get them wrong
    for learner in range(10):
        strong = learner < 5
        for item in ("good1", "good2", "good3"):
            n += 1
            _attempt(records, f"k{n}", f"l{learner}", item, strong)
        n += 1
        _attempt(records, f"k{n}", f"l{learner}", "broken", False)  # nobody gets it right: wrong key?
        n += 1
        _attempt(records, f"k{n}", f"l{learner}", "inverted", not strong)  # weak learners do better
    stats = {s.item_id: s for s in item_analysis(records.attempts("c"))}
    assert stats["good1"].share_correct == 0.5 and stats["good1"].discrimination is not None
    assert stats["good1"].discrimination > 0.5 and stats["good1"].flag is None
    assert stats["broken"].flag is not None and "wrong" in stats["broken"].flag
    assert stats["inverted"].discrimination is not None and stats["inverted"].discrimination < 0
    assert stats["inverted"].flag is not None and "negative" in stats["inverted"].flag
