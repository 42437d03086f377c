"""The terminal chat: a resumed session always shows the open question again; Markdown is not printed raw."""

from __future__ import annotations

import io

from tests.integration.test_graph import courses, make_tutor, store_dir  # noqa: F401  (fixtures)
from tests.support.learner import drain
from tutor.chat import run_chat
from tutor.session import Tutor


def test_a_resumed_session_shows_the_open_question_however_far_back_it_was(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("tt", "fractions"))
    for text in ("hint", "where am i", "why do the parts have to be equal?", "hint"):  # push the item back
        drain(tutor.send("tt", "fractions", text))
    prompt = tutor.view("tt", "fractions").pending["prompt"]  # type: ignore[index]
    out = io.StringIO()
    assert run_chat(tutor, "fractions", "tt", inp=io.StringIO(""), out=out) == 0
    shown = out.getvalue()
    resumed = shown[shown.index("Welcome back"):]
    assert "Your open question:" in resumed and prompt in resumed


def test_the_terminal_shows_no_markdown_markers(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    out = io.StringIO()
    run_chat(tutor, "mini", "md", inp=io.StringIO("where am i\n" + "x\n"), out=out)
    shown = out.getvalue()
    assert "**" not in shown and "`" not in shown, shown
    assert "Now working on" in shown  # the status line that was written in Markdown

