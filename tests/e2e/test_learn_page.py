"""The Learn page in a real browser: new feedback stays next to the question after scrolling the conversation
up and back; no developer note; learner text shown as text with nothing remote fetched; a phone-sized screen
opens with the question in view."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_learner_journey import Learner, learner, pending_item

pytestmark = pytest.mark.e2e


def _in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height


def _question_card(page: Any) -> Any:
    return page.get_by_test_id("stForm").filter(has_text=re.compile(r"Question\s+\S+")).first


def test_new_feedback_stays_in_view_after_scrolling_up_and_back(browser: Any, server: Server, shots: Path) -> None:
    with learner(browser, server, "e2e-scroll", shots) as dee:
        dee.sign_in()
        assert "Pixels" not in dee.text(), "the developer note is on the page"
        for _ in range(3):  # a few turns, so the conversation scrolls
            pending = pending_item(server.data_dir, dee.key)
            dee.answer(pending, pending.right)
        box = dee.page.locator(".st-key-transcript")
        assert box.count() == 1
        box.evaluate("el => { el.scrollTop = 0; }")  # read back up...
        dee.page.wait_for_timeout(300)
        box.evaluate("el => { el.scrollTop = el.scrollHeight; }")  # ...and down again
        pending = pending_item(server.data_dir, dee.key)
        dee.answer(pending, pending.wrong)
        latest = dee.page.locator(".st-key-latest-turn")
        feedback = latest.get_by_test_id("stAlertContentError").last
        assert feedback.count() == 1, "the feedback on the last answer is not next to the question"
        feedback.scroll_into_view_if_needed()
        card = _question_card(dee.page)
        assert _in_view(dee.page, feedback) and _in_view(dee.page, card), "feedback and question not both in view"
        assert "Correct" not in latest.inner_text(), "an older 'Correct.' sits next to the question"
        dee.shot("10-feedback-next-to-question")


def test_learner_text_is_shown_as_text_and_nothing_remote_is_fetched(browser: Any, server: Server, shots: Path) -> None:
    with learner(browser, server, "e2e-markdown", shots) as eve:
        remote: list[str] = []
        eve.page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(server.url) else None)
        eve.sign_in()
        eve.say("# Heading?\n\n![logo](http://203.0.113.9/logo.png) what is **this**?")
        bubble = eve.page.locator('[aria-label="Chat message from user"]').last
        assert bubble.locator("h1, h2, img, strong, table").count() == 0
        assert "![logo](http://203.0.113.9/logo.png)" in bubble.inner_text()
        assert not [u for u in remote if "203.0.113.9" in u], remote
        eve.shot("11-learner-text")


def test_a_phone_sized_screen_opens_at_the_question(browser: Any, server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        phone = Learner(context.new_page(), server, "e2e-phone", shots)
        phone.sign_in()
        for _ in range(2):
            pending = pending_item(server.data_dir, phone.key)
            phone.answer(pending, pending.right)
        phone.page.reload()  # still signed in (the cookie), back at the course's question
        phone.page.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=60_000)
        phone.settle()
        phone.page.wait_for_timeout(500)
        card = _question_card(phone.page)
        phone.page.screenshot(path=str(shots / "12-phone.png"))
        assert _in_view(phone.page, card), "the question is not in view when the page opens on a phone"
    finally:
        context.close()
