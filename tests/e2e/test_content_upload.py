"""The Content page's upload preview in Chromium against the real app: an author picks an HTML docs page, sees
the passages it would make (heading path, skills, style, first words, word count) and the warnings before
anything is stored, cancels (nothing stored), then picks a skill and stores them. The page's cookie banner and
site footer never appear as passages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server
from tests.e2e.test_learner_journey import TURN_TIMEOUT, learner

pytestmark = pytest.mark.e2e

PAGE = ROOT / "tests" / "fixtures" / "html" / "fractions-docs-page.html"
NAME = "unlike-e2e-preview.html"


def choose_file(page: Any) -> None:
    page.get_by_test_id("stFileUploader").filter(has=page.get_by_text("Source files", exact=True)).get_by_test_id(
        "stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": NAME, "mimeType": "text/html", "buffer": PAGE.read_bytes()}])


def stored(page: Any) -> tuple[int, int]:
    """(passages, source files) the store holds for the course, as the page's summary line says."""
    line = page.get_by_text(re.compile(r"^\d+ passages from \d+ source file\(s\)")).first
    line.wait_for(timeout=TURN_TIMEOUT)
    found = re.match(r"^(\d+) passages from (\d+) source file", line.inner_text().strip())
    assert found
    return int(found.group(1)), int(found.group(2))


def test_an_upload_is_previewed_and_only_stored_on_request(browser: Any, server: Server, shots: Path) -> None:
    with learner(browser, server, "e2e-uma-preview", shots, role="author") as uma:
        uma.sign_in_only()
        page = uma.page
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Content").click()
        page.get_by_role("tab", name="Source material").click()
        page.get_by_test_id("stSelectbox").filter(visible=True).filter(
            has=page.get_by_text("Course", exact=True)).click()
        page.get_by_role("option", name="Fractions").click()
        uma.settle()
        passages, files = stored(page)

        choose_file(page)
        page.get_by_text("Preview: 4 passage(s) from 1 of 1 file(s).").wait_for(timeout=TURN_TIMEOUT)
        uma.settle()
        text = uma.text()
        assert "Nothing is stored until you press" in text
        assert f"{NAME}: 4 of 4 passages name no skill" in text and f"{NAME}: 4 of 4 passages have no style" in text
        preview = page.get_by_test_id("stDataFrame").filter(has=page.get_by_text("Starts", exact=True))
        preview.wait_for(timeout=TURN_TIMEOUT)
        scroller = preview.locator(".dvn-scroller").first  # the grid's scrolling box: every column in view
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), "the preview scrolls sideways"
        uma.shot("20-content-upload-preview")
        assert stored(page) == (passages, files)  # nothing stored yet

        page.get_by_role("button", name="Cancel").click()
        uma.settle()
        page.get_by_text("Preview:").wait_for(state="detached", timeout=TURN_TIMEOUT)
        assert stored(page) == (passages, files)
        uma.shot("21-content-upload-cancelled")

        choose_file(page)
        page.get_by_text("Preview: 4 passage(s)").wait_for(timeout=TURN_TIMEOUT)
        uma.settle()
        skills = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Skills (optional)"))
        skills.locator("input").click()
        page.keyboard.type("different denominators")  # the box filters its options as one types
        page.get_by_role("option", name="Adding and subtracting fractions with different denominators").click()
        page.keyboard.press("Escape")
        uma.settle()
        assert "passages name no skill" not in uma.text()
        page.get_by_role("button", name="Store these passages").click()
        page.get_by_text("Stored 1 file(s)").wait_for(timeout=TURN_TIMEOUT)
        uma.settle()
        assert stored(page) == (passages + 4, files + 1)
        assert NAME in page.get_by_test_id("stTable").first.inner_text()  # the result row (an HTML table)
        assert "Cookie settings" not in uma.text()
        uma.shot("22-content-upload-stored")
