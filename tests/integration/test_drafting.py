"""Drafting with Claude through the local fake Messages server: a forced tool call validated against the course
models, partly invalid and malformed drafts, and the approval workflow (CLI)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import MINI_COURSE
from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tutor.authoring import drafts
from tutor.authoring.drafting import DRAFT_TOOL, DraftingError, draft_skill
from tutor.cli import main
from tutor.course.loader import load_course, validate_course
from tutor.settings import Settings

MC = {
    "id": "anything", "kind": "multiple_choice", "form": "B", "prompt": "Which of these is one half of 10?",
    "hints": ["Half means two equal parts.", "Share 10 between two people."],
    "explanation": "10 split into two equal parts gives 5 in each part.",
    "choices": [
        {"text": "5", "correct": True},
        {"text": "2", "feedback": "That is the number of parts, not the size of each.",
         "misconception": "parts-not-size"},
        {"text": "20", "feedback": "Doubling is the opposite of halving.", "misconception": "double-not-half"},
    ],
}
FREE = {
    "id": "x", "kind": "free_response", "form": "B", "prompt": "Explain why 1/2 of a pizza can be bigger than 1/2 "
    "of another pizza.", "hints": ["Think about the size of the whole."],
    "explanation": "A half is always relative to its whole.", "reference": "A half depends on the whole it is "
    "taken from: half of a large pizza is more pizza than half of a small one.",
    "rubric": [{"point": "The whole can differ in size.", "keywords": ["whole", "bigger pizza", "size"]}],
    "examples": [{"answer": "Because the pizzas can be different sizes.", "correct": True, "note": "names the whole"},
                 {"answer": "A half is always the same.", "correct": False, "note": "ignores the whole"}],
}
PASSAGE = {"title": "Sharing fairly", "style": "scenario", "text": "Two friends share a sandwich...", "cites": [1]}


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MINI_COURSE, tmp_path / "content" / "mini-course"))


@pytest.fixture
def settings(fake_anthropic: FakeAnthropicServer, course_dir: Path) -> Settings:
    return Settings(_env_file=None, anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.url,
                    anthropic_max_retries=0, content_dir=course_dir.parent)


def draft(settings: Settings, course_dir: Path, **kwargs: Any) -> Any:
    return draft_skill(settings, load_course(course_dir), course_dir, "halves", **kwargs)


def test_a_valid_draft_is_saved_pending_grounded_and_approved_into_the_course(
    fake_anthropic: FakeAnthropicServer, settings: Settings, course_dir: Path
) -> None:
    fake_anthropic.queue(Reply.tool(DRAFT_TOOL, {"items": [MC, FREE], "passages": [PASSAGE]}))
    result = draft(settings, course_dir, n_items=2, want_passages=True)
    request = fake_anthropic.requests[0].body
    assert request["tool_choice"] == {"type": "tool", "name": DRAFT_TOOL}
    schema = request["tools"][0]["input_schema"]
    assert set(schema["properties"]) == {"items", "passages"}
    prompt = request["messages"][0]["content"][0]["text"]
    assert "[1] (definition) halves.md" in prompt and "2 new item(s) of form" in prompt
    assert "passages in explanation styles this skill lacks" in prompt
    d = result.draft
    assert result.rejected == [] and d is not None and d.status == "pending"
    assert [i["id"] for i in d.items] == ["halves-d-b", "halves-d-b-2"]
    assert d.items[0]["choices"][1]["misconception"] == "parts-not-size"
    assert d.items[1]["examples"][1]["correct"] is False
    assert d.passages[0].cites == [d.sources[0]] and d.sources[0].startswith("halves.md")
    before = len(load_course(course_dir).items["halves"])  # a pending draft reaches no learner
    assert (course_dir / "drafts" / f"{d.id}.yaml").is_file()
    assert drafts.approve(course_dir, d.id) == []
    course = load_course(course_dir)
    assert len(course.items["halves"]) == before + 2
    assert any(s.style and s.style.value == "scenario" and s.file.startswith("draft-") for s in course.sources)
    assert drafts.load(course_dir, d.id).status == "approved"
    assert drafts.approve(course_dir, d.id) == [f"draft {d.id} is already approved"]


def test_a_partly_invalid_draft_keeps_the_valid_part_and_says_what_was_rejected(
    fake_anthropic: FakeAnthropicServer, settings: Settings, course_dir: Path
) -> None:
    two_correct = {**MC, "choices": [{**c, "correct": True} for c in MC["choices"][:2]]}
    no_prompt = {k: v for k, v in MC.items() if k != "prompt"}
    leaky = {**MC, "hints": ["The answer is 5.", "Share 10 between two people."]}
    bad_cite = {**PASSAGE, "cites": [99]}
    bad_style = {**PASSAGE, "style": "interpretive-dance"}
    fake_anthropic.queue(Reply.tool(DRAFT_TOOL, {"items": [two_correct, no_prompt, leaky, "junk"],
                                                 "passages": [bad_cite, bad_style]}))
    result = draft(settings, course_dir, want_passages=True)
    assert result.rejected[0] == "item 1: 2 choices are marked correct; exactly one is needed"
    assert result.rejected[1].startswith("item 2: prompt: Field required")
    assert result.rejected[2] == "item 3: 1 hint(s) gave the answer away and were dropped"
    assert result.rejected[3].startswith("item 4: ")
    assert result.rejected[4] == "passage 1: cites [99]; every passage must cite the sources it uses"
    assert result.rejected[5].startswith("passage 2: style: Input should be")
    assert result.draft is not None
    [kept] = result.draft.items
    assert kept["hints"] == ["Share 10 between two people."]
    assert result.draft.passages == []


@pytest.mark.parametrize("reply,message", [
    (Reply.tool(DRAFT_TOOL, "not an object"), "input is not an object"),
    (Reply.tool(DRAFT_TOOL, {"items": {"a": 1}}), "must be lists"),
    (Reply.text_reply("Here are some items: ..."), f"did not call {DRAFT_TOOL}"),
    (Reply.server_error(), "InternalServerError"),
])
def test_malformed_replies_draft_nothing_and_say_why(
    fake_anthropic: FakeAnthropicServer, settings: Settings, course_dir: Path, reply: Reply, message: str
) -> None:
    fake_anthropic.queue(reply)
    with pytest.raises(DraftingError, match=message):
        draft(settings, course_dir)
    assert not (course_dir / "drafts").exists()


def test_the_cli_drafts_lists_shows_rejects_and_offline_asks_for_a_key(
    fake_anthropic: FakeAnthropicServer, course_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(course_dir.parent))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("TUTOR_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(course_dir.parent)  # no .env here
    assert main(["content", "draft", "--course", "mini-course", "--skill", "halves"]) == 2
    assert "drafting needs Claude: set ANTHROPIC_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("TUTOR_ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("TUTOR_ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("TUTOR_ANTHROPIC_MAX_RETRIES", "0")
    fake_anthropic.queue(Reply.tool(DRAFT_TOOL, {"items": [MC], "passages": []}))
    assert main(["content", "draft", "--course", "mini-course", "--skill", "halves", "--items", "1"]) == 0
    out = capsys.readouterr().out
    draft_id = out.split()[1].rstrip(":")
    assert main(["content", "drafts", "list", "--course", "mini-course"]) == 0
    assert f"{draft_id}  pending  claude halves: 1 item(s)" in capsys.readouterr().out
    assert main(["content", "drafts", "show", draft_id, "--course", "mini-course"]) == 0
    assert "Which of these is one half of 10?" in capsys.readouterr().out
    assert main(["content", "drafts", "reject", draft_id, "--course", "mini-course"]) == 0
    assert main(["content", "drafts", "list", "--course", "mini-course"]) == 0
    assert "no pending drafts" in capsys.readouterr().out
    assert main(["content", "drafts", "approve", "nope", "--course", "mini-course"]) == 2
    assert "no draft 'nope'" in capsys.readouterr().err


def test_an_imported_essay_draft_needs_a_rubric_then_is_approved_after_editing(course_dir: Path) -> None:
    d = drafts.Draft(id="import-words-1", course="mini-course", skill="words", origin="import",
                     created="2026-11-30T00:00:00+00:00",
                     items=[{"id": "words-q8", "kind": "free_response", "form": "A", "prompt": "How are you?"}])
    drafts.save(course_dir, d)
    problems = drafts.approve(course_dir, d.id)
    assert problems == ["item 1: reference: Field required", "item 1: rubric: Field required"]
    text = drafts.editable_text(d)
    data = yaml.safe_load(text)
    data["items"][0] |= {"reference": "Fine, thanks.", "rubric": [{"point": "Says how they are",
                                                                    "keywords": ["fine", "good"]}]}
    with pytest.raises(drafts.DraftError, match="line 1: YAML syntax error"):
        drafts.edit(course_dir, d.id, "items: [")
    drafts.edit(course_dir, d.id, yaml.safe_dump(data))
    assert drafts.approve(course_dir, d.id) == []
    assert validate_course(course_dir) == []
    assert load_course(course_dir).item("words-q8").prompt == "How are you?"
    with pytest.raises(drafts.DraftError, match="already approved"):
        drafts.edit(course_dir, d.id, yaml.safe_dump(data))
