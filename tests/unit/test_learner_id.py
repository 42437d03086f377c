"""Learner ids: one learner's name always reaches the same session; unusable names get a clear error."""

from __future__ import annotations

import pytest

from tutor.cli import main
from tutor.session import LearnerIdError, normalise_learner_id


@pytest.mark.parametrize("raw", ["Alice", " alice ", "ALICE"])
def test_the_same_name_is_the_same_learner(raw: str) -> None:
    assert normalise_learner_id(raw) == "alice"


def test_inner_spaces_fold() -> None:
    assert normalise_learner_id("Mary   Ann") == "mary ann"


@pytest.mark.parametrize("raw", ["", "   ", "../etc/passwd", "a:b", "x" * 65, "<script>"])
def test_unusable_names_are_refused_with_a_message(raw: str) -> None:
    with pytest.raises(LearnerIdError, match="1-64 characters"):
        normalise_learner_id(raw)


def test_chat_refuses_a_bad_learner_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--course", "fractions", "--learner", "a:b"]) == 2
    assert "1-64 characters" in capsys.readouterr().err
