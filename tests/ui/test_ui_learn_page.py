"""What the Learn page shows (pure render helpers): locked skills, sources not repeated, learner text as text,
the latest turn kept apart from the scrolling conversation."""

from __future__ import annotations

from dataclasses import dataclass

from ui import render


@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    status: str
    p_known: float
    prerequisites: tuple[str, ...] = ()


def test_a_locked_skill_shows_locked_not_the_prior() -> None:
    locked = Skill("b", "Adding", "locked", 0.2, ("a",))
    dot = render.skill_map_dot([Skill("a", "Halves", "in_progress", 0.4), locked])
    assert "Adding\\nlocked" in dot and "Adding\\n20%" not in dot
    assert render.skill_standing(locked) == "Locked"
    assert render.skill_standing(Skill("a", "Halves", "in_progress", 0.4)) == "In progress, 40%"


def test_sources_name_a_passage_the_message_quotes_and_quote_one_it_does_not() -> None:
    citation = {"source": "meaning.md", "heading": "Parts", "text": "A **fraction** names equal\nparts of a whole."}
    shown = "Here is how it works.\n\nA fraction names equal parts of a whole. [1]"
    assert render.already_shown(citation, shown)
    assert not render.already_shown(citation, "Something else entirely.")
    assert "names equal" not in render.citation_markdown(citation, quote=False)
    assert "> A **fraction** names equal" in render.citation_markdown(citation)


def test_learner_text_is_escaped_so_no_markdown_or_remote_image_survives() -> None:
    typed = "# Big\n![x](http://example.com/x.png)\n| a | b |\n|---|---|\n**bold** 3/4 <img src=x>"
    out = render.plain_text(typed)
    assert "![" not in out and "](" not in out and "\n#" not in out and not out.startswith("#")
    assert "**" not in out and "\\<img" in out  # the tag is escaped: shown, never rendered
    unescaped = out.replace("\\", "").replace("  \n", "\n")
    assert unescaped == typed  # every character the learner typed is still there


def test_the_latest_turn_is_the_learners_last_message_and_the_replies() -> None:
    messages = [
        {"role": "tutor", "kind": "explanation", "text": "e"},
        {"role": "tutor", "kind": "item", "text": "q1"},
        {"role": "learner", "kind": "answer", "text": "3/4"},
        {"role": "tutor", "kind": "feedback", "text": "Correct."},
        {"role": "tutor", "kind": "item", "text": "q2"},
        {"role": "learner", "kind": "answer", "text": "1/2"},
        {"role": "tutor", "kind": "feedback", "text": "Not quite."},
        {"role": "tutor", "kind": "item", "text": "q3"},
    ]
    earlier, latest = render.split_latest_turn(messages)
    assert [m["text"] for m in latest] == ["1/2", "Not quite.", "q3"]
    assert earlier + latest == messages
    assert render.split_latest_turn(messages[:2]) == ([], messages[:2])
