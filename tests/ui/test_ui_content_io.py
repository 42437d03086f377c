"""The Content page's item-bank section (AppTest): import a real GIFT bank into a course, read the import report,
then complete, approve and reject drafts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.conftest import MINI_COURSE
from tests.ui.conftest import click, open_page, use_fake
from tests.ui.fakes import FakeTutor
from tutor.auth import Role
from tutor.authoring import drafts
from tutor.course.loader import load_course, validate_course
from tutor.course.models import Course
from tutor.settings import Settings

GIFT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "item-banks" / "moodle-questions.gift.txt"

pytestmark = pytest.mark.skipif(not GIFT.is_file(), reason="../shared/data/item-banks is not present")


@pytest.fixture
def content(tmp_path: Path, settings: Settings, fractions: Course, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A content folder with an empty course `imp` (one skill, one source) and the mini course."""
    root = tmp_path / "authoring"
    course = root / "imp"
    (course / "sources").mkdir(parents=True)
    (course / "course.yaml").write_text("id: imp\ntitle: Imported\nskills:\n  - id: general\n    title: General\n"
                                        "    objectives: [Answer general questions.]\n")
    (course / "sources" / "general.md").write_text("---\nskills: [general]\nstyle: definition\n---\n# G\nText.\n")
    shutil.copytree(MINI_COURSE, root / "mini-course")
    mine = settings.model_copy(update={"content_dir": root})
    use_fake(monkeypatch, FakeTutor(mine, fractions, [fractions.item("meaning-a1")]))
    return root


def page() -> AppTest:
    return open_page("pages/content.py", "ana", Role.AUTHOR)


def test_an_author_imports_a_gift_bank_completes_the_essay_draft_and_approves_it(content: Path) -> None:
    at = page()
    at.selectbox(key="io_course").select("imp").run()
    at.file_uploader(key="bank_files_0").set_value([("moodle-questions.gift.txt", GIFT.read_bytes(), "text/plain")])
    at.selectbox(key="bank_skill_imp").select("general").run()
    at = click(at, "Import")
    assert not at.exception
    assert at.success[0].value.startswith("Imported 6 item(s): general +6. 1 draft(s) to complete below.")
    report = at.table[0].value
    unsupported = report[report["What happened"] == "unsupported"]
    assert list(unsupported["Where"]) == ["5", "22"]
    assert "matching questions cannot be represented" in unsupported.iloc[0]["Message"]
    assert validate_course(content / "imp") == []

    [pending] = drafts.list_drafts(content / "imp", "pending")
    at = page()
    at.selectbox(key="io_course").select("imp").run()
    assert any("cannot be approved yet: reference: Field required" in w.value for w in at.warning)
    at = click(at, "Approve")
    assert any("Not approved; nothing changed" in e.value for e in at.error)
    data = yaml.safe_load(at.text_area(key=f"draft_text_{pending.id}").value)
    data["items"][0] |= {"reference": "I am well.", "rubric": [{"point": "Says how they are",
                                                                "keywords": ["well", "fine"]}]}
    at.text_area(key=f"draft_text_{pending.id}").input(yaml.safe_dump(data)).run()
    at = click(at, "Save edits")
    assert [s.value for s in at.success][-1] == "Saved."
    at = click(at, "Approve")
    assert any(s.value.startswith("Approved: added to imp.") for s in at.success)
    course = load_course(content / "imp")
    assert len(course.items["general"]) == 7
    assert drafts.load(content / "imp", pending.id).status == "approved"


def test_an_author_rejects_a_draft_and_it_never_reaches_the_course(content: Path) -> None:
    course_dir = content / "mini-course"
    before = sum(len(v) for v in load_course(course_dir).items.values())
    drafts.save(course_dir, drafts.Draft(
        id="claude-halves-1", course="mini-course", skill="halves", origin="claude", created="2026-11-30T00:00:00",
        items=[{"id": "halves-d-b", "kind": "short_text", "form": "B", "prompt": "Half of 8?", "accepted": ["4"]}]))
    at = page()
    at.selectbox(key="io_course").select("mini-course").run()
    assert "Half of 8?" in at.text_area(key="draft_text_claude-halves-1").value
    at = click(at, "Reject")
    assert any(s.value == "Rejected." for s in at.success)
    assert drafts.load(course_dir, "claude-halves-1").status == "rejected"
    assert sum(len(v) for v in load_course(course_dir).items.values()) == before


def test_a_learner_gets_no_import_or_drafts_section(content: Path) -> None:
    at = open_page("pages/content.py", "lea", Role.LEARNER)
    assert not at.exception
    assert "io_course" not in [s.key for s in at.selectbox]
    assert not (content / "imp" / "items").exists()


def test_an_author_drafts_with_claude_on_the_page_and_approves_the_draft(
    content: Path, settings: Settings, fractions: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
    from tutor.authoring.drafting import DRAFT_TOOL

    item = {"id": "x", "kind": "short_text", "form": "B", "prompt": "What is half of 8?", "accepted": ["4"],
            "hints": ["Share 8 between two."], "explanation": "8 / 2 = 4."}
    with FakeAnthropicServer() as server:
        mine = settings.model_copy(update={"content_dir": content, "anthropic_api_key": SecretStr("test-key"),
                                           "anthropic_base_url": server.url, "anthropic_max_retries": 0})
        use_fake(monkeypatch, FakeTutor(mine, fractions, [fractions.item("meaning-a1")]))
        server.queue(Reply.tool(DRAFT_TOOL, {"items": [item, {"kind": "numeric"}], "passages": []}))
        at = page()
        at.selectbox(key="io_course").select("mini-course").run()
        at.selectbox(key="draft_skill_mini").select("halves").run()
        at = click(at, "Draft")
        assert not at.exception
        assert any(s.value.startswith("Draft claude-halves-") for s in at.success)
        assert any(w.value.startswith("Rejected item 2: ") for w in at.warning)
        assert len(server.requests) == 1
    [pending] = drafts.list_drafts(content / "mini-course", "pending")
    assert pending.items[0]["prompt"] == "What is half of 8?"
    at = click(at, "Approve")
    assert any(s.value.startswith("Approved: added to mini-course.") for s in at.success)
    assert load_course(content / "mini-course").item(pending.items[0]["id"]).prompt == "What is half of 8?"


def test_offline_the_page_says_drafting_needs_a_key(content: Path) -> None:
    at = page()
    at.selectbox(key="io_course").select("mini-course").run()
    assert any("Drafting needs Claude: set ANTHROPIC_API_KEY" in i.value for i in at.info)
    assert "Draft" not in [b.label for b in at.button]
