"""Playing a turn live: streamed chunks are typed out once, complete messages rendered as they arrive."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def live_turn() -> None:
    from typing import Any

    from ui import chat

    explanation = {"role": "tutor", "kind": "explanation", "text": "Halves are two equal parts.", "style": "analogy",
                   "citations": [{"id": "c1", "source": "halves.md", "heading": "Halves", "text": "Two equal parts."}]}
    item = {"role": "tutor", "kind": "item", "text": "Which is half?",
            "item": {"item_id": "h1", "kind": "multiple_choice", "form": "A", "prompt": "Which is half?",
                     "choices": ["1/2", "2/1"]}}
    events: list[dict[str, Any]] = [
        {"type": "text", "text": "Halves are "},
        {"type": "text", "text": "two equal parts."},
        {"type": "message", "message": explanation, "streamed": True},
        {"type": "notice", "text": "The language model did not answer; this reply comes from the offline tutor."},
        {"type": "message", "message": item, "streamed": False},
    ]
    chat.play_turn(events)


def test_a_live_turn_types_the_stream_once_and_shows_sources_notices_and_the_question() -> None:
    at = AppTest.from_function(live_turn).run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert texts.count("Halves are two equal parts.") == 1
    assert "Explanation · analogy" in [c.value for c in at.caption]
    assert [e.label for e in at.expander] == ["Sources (1)"]
    assert [i.value for i in at.info] == ["The language model did not answer; this reply comes from the offline tutor."]
    assert "**Question.** Which is half?" in texts
    assert len(at.chat_message) == 1  # one tutor bubble for the whole turn
