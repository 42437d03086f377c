"""A learner's journey in a real browser (Debian's Chromium via Playwright) against the real app, offline.

Sign in -> explanation with sources -> wrong answers until a different explanation -> correct answers until the
first fractions skill is mastered -> reload: still signed in, at the same question -> a second learner sees none of
it, by any route (A's name, a URL parameter naming A, a second tab).
Correct answers are looked up server-side (course files + the pending item's checkpointed instance), never from
the page; the page and every message the server sends to the browser are checked for the pending item's key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import CONTENT, PASSWORD_SUFFIX, Server, add_account
from tutor.course.loader import load_course
from tutor.course.models import Course, FreeResponseItem, Item, MultipleChoiceItem, NumericItem, ShortTextItem
from tutor.course.templates import instantiate
from tutor.records import Records

pytestmark = pytest.mark.e2e

COURSE = "fractions"
FIRST_SKILL_TITLE = "What a fraction means"
MASTERED = f"mastered {FIRST_SKILL_TITLE}"
TURN_TIMEOUT = 60_000
FRACTIONS = load_course(CONTENT / COURSE)


# ---------------------------------------------------------------- server-side answer key (never from the page)


@dataclass(frozen=True)
class Pending:
    item: Item
    right: str
    wrong: str
    secrets: list[str]


def pending_item(data_dir: Path, learner: str, course: Course = FRACTIONS) -> Pending:
    """The learner's pending item and its answers, read from the ledger's open question and the course files (the
    question is written there before the page shows it; the checkpoint is saved only when the turn ends)."""
    records = Records(f"sqlite:///{(data_dir / 'tutor.db').resolve()}")
    try:
        question = records.open_question(learner, course.id)
    finally:
        records.close()
    assert question is not None, f"{learner} has no open question in {course.id}"
    item = course.item(question.item_id)
    instance = instantiate(item, question.seed)
    secrets = [item.explanation] if item.explanation else []
    if isinstance(item, MultipleChoiceItem):
        right = next(c.text for c in item.choices if c.correct)
        wrong = next(c.text for c in item.choices if not c.correct)
        secrets += [c.feedback for c in item.choices if c.feedback]
    elif isinstance(item, NumericItem):
        value = instance.answer if instance.answer is not None else item.answer
        right = str(value)
        wrong = "1000" if Fraction(str(value)) != 1000 else "999"
    elif isinstance(item, ShortTextItem):
        right, wrong = item.accepted[0], "no idea"
        secrets += item.accepted
    else:
        assert isinstance(item, FreeResponseItem)
        right, wrong = item.reference, "no idea"
        secrets += [item.reference]
    return Pending(item, right, wrong, [s for s in secrets if s and s not in instance.prompt])


# ---------------------------------------------------------------- driving the page


class Learner:
    """One browser context (its own Streamlit session) signed in as one learner."""

    def __init__(self, page: Any, server: Server, name: str, shots: Path, role: str = "learner") -> None:
        self.page = page
        self.server = server
        self.name = name
        self.key = add_account(server, name, role)
        """The learner id the tutor files this account's learning under."""
        self.shots = shots
        self.frames: list[bytes] = []
        """What the server sent to this browser since the last answer."""
        self.answered: set[str] = set()
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: bytes | str) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def settle(self) -> None:
        """Wait until the app is idle (twice: a turn ends with a rerun that renders the new state)."""
        for _ in range(2):
            self.page.wait_for_timeout(250)
            self.page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                        timeout=TURN_TIMEOUT)

    def sign_in_only(self, password: str | None = None) -> None:
        page = self.page
        page.goto(self.server.url)
        page.get_by_label("Sign-in name").wait_for(timeout=TURN_TIMEOUT)  # the first visit loads the tutor
        page.get_by_label("Sign-in name").fill(self.name)
        page.get_by_label("Password", exact=True).fill(password or self.name + PASSWORD_SUFFIX)
        page.get_by_role("button", name="Sign in").click()
        self.settle()

    def sign_in(self) -> None:
        self.sign_in_only()
        page = self.page
        page.get_by_test_id("stSelectbox").filter(has_text="Course").click()
        page.get_by_role("option", name="Fractions").click()
        page.get_by_role("button", name="Start learning").click()
        page.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=TURN_TIMEOUT)
        self.settle()

    def messages(self) -> int:
        return int(self.page.locator('[data-testid="stChatMessage"]').count())

    def learner_messages(self) -> list[str]:
        return list(self.page.locator('[aria-label="Chat message from user"]').all_inner_texts())

    def pending_id(self) -> str:
        caption = self.page.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"^Question\s+\S+\s*$"))
        try:
            caption.first.wait_for(timeout=TURN_TIMEOUT)
        except PlaywrightTimeout:
            self.shot(f"failed-{self.name}-no-question")
            raise AssertionError(f"no pending question on the page (see failed-{self.name}-no-question.png)") from None
        found = re.match(r"^Question\s+(\S+)", caption.first.inner_text().strip())
        assert found
        return found.group(1)

    def explanation_labels(self) -> list[str]:
        return [t.strip() for t in self.page.get_by_test_id("stCaptionContainer").all_inner_texts()
                if "explanation ·" in t.lower()]

    def _wait_for_reply(self, before: int) -> None:
        """Wait for the question, the learner's message and at least one reply to join the conversation."""
        self.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length > n", arg=before + 2,
            timeout=TURN_TIMEOUT,
        )
        self.settle()

    def answer(self, pending: Pending, text: str) -> None:
        before = self.messages()
        self.answered.add(pending.item.id)
        self.frames.clear()
        if isinstance(pending.item, MultipleChoiceItem):
            pattern = re.compile(rf"^[A-Z]\.\s+{re.escape(' '.join(text.split()))}$")
            self.page.get_by_test_id("stRadio").locator("label").filter(has_text=pattern).click()
        elif isinstance(pending.item, FreeResponseItem):
            self.page.get_by_label("Your answer").fill(text)
        else:
            self.page.get_by_label(re.compile(r"^Your answer")).fill(text)
        self.page.get_by_role("button", name="Submit answer").click()
        self._wait_for_reply(before)

    def say(self, text: str) -> None:
        before = self.messages()
        box = self.page.get_by_test_id("stChatInputTextArea")
        box.fill(text)
        box.press("Enter")
        self._wait_for_reply(before)

    def text(self) -> str:
        return str(self.page.inner_text("body"))

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def assert_no_key(self, pending: Pending) -> None:
        """The pending item's key is neither on the page nor in anything the server sent since the last answer.

        (Once an item has been answered, its feedback and worked solution are rightly in the transcript.)
        """
        if pending.item.id in self.answered:
            return
        html, text = self.page.content(), self.text()
        for secret in pending.secrets:
            assert secret not in text and secret not in html, f"the page shows a key of {pending.item.id}"
            assert not any(secret.encode() in frame for frame in self.frames), (
                f"the server sent a key of {pending.item.id} to the browser")


@contextmanager
def learner(browser: Any, server: Server, name: str, shots: Path, role: str = "learner") -> Iterator[Learner]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield Learner(context.new_page(), server, name, shots, role)
    finally:
        context.close()


# ---------------------------------------------------------------- the journey


def test_a_learner_masters_the_first_skill_resumes_after_a_reload_and_stays_private(
    browser: Any, server: Server, shots: Path
) -> None:
    with learner(browser, server, "e2e-alice", shots) as alice:
        # sign in: the first skill is explained from the sources, with citations, then a question is asked
        alice.sign_in()
        assert "Running offline" in alice.text()
        assert alice.explanation_labels(), "no explanation was shown"
        assert alice.page.get_by_text(re.compile(r"^Sources \(\d+\)")).count() >= 1
        first_style = alice.explanation_labels()[0]
        alice.page.get_by_text(re.compile(r"^Sources \(\d+\)")).first.click()
        assert "meaning.md" in alice.text()
        pending = pending_item(server.data_dir, alice.key)
        assert alice.pending_id() == pending.item.id
        alice.assert_no_key(pending)
        alice.shot("01-explanation")

        alice.say("where am i")
        assert "skills in Fractions" in alice.text()

        # wrong answers until the tutor explains again, in a different style
        for _ in range(4):
            pending = pending_item(server.data_dir, alice.key)
            alice.answer(pending, pending.wrong)
            if len(alice.explanation_labels()) > 1:
                break
        labels = alice.explanation_labels()
        assert len(labels) > 1, "no second explanation after wrong answers"
        assert labels[-1].startswith("Another explanation")
        assert labels[-1].split("·")[-1] != first_style.split("·")[-1], f"same style again: {labels}"
        alice.shot("02-remediation")

        # correct answers until the first skill is mastered; the page never holds the pending key
        for _ in range(25):
            if MASTERED in alice.text():
                break
            pending = pending_item(server.data_dir, alice.key)
            assert alice.pending_id() == pending.item.id
            alice.assert_no_key(pending)
            alice.answer(pending, pending.right)
        assert MASTERED in alice.text(), "the first skill was not mastered"
        alice.page.get_by_text("All skills").click()
        assert f"{FIRST_SKILL_TITLE}: Mastered" in alice.text()
        alice.shot("03-mastered")
        pending_before, messages_before = alice.pending_id(), alice.messages()

        # a reload is a new browser session: still signed in (the cookie), at the same course and question
        alice.page.reload()
        alice.page.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=TURN_TIMEOUT)
        alice.settle()
        assert "Sign-in name" not in alice.text()
        assert alice.pending_id() == pending_before
        assert alice.messages() == messages_before
        assert MASTERED in alice.text()
        alice.shot("04-resumed")
        alice_answers = alice.learner_messages()

    with learner(browser, server, "e2e-bob", shots) as bob:
        # typing Alice's name: there is no name box, and her name with Bob's password does not sign in
        bob.page.goto(server.url)
        bob.page.get_by_label("Sign-in name").wait_for(timeout=TURN_TIMEOUT)
        bob.page.get_by_label("Sign-in name").fill("e2e-alice")
        bob.page.get_by_label("Password", exact=True).fill("e2e-bob" + PASSWORD_SUFFIX)
        bob.page.get_by_role("button", name="Sign in").click()
        bob.settle()
        assert "Wrong sign-in name or password" in bob.text()
        bob.sign_in()
        assert bob.learner_messages() == []
        assert MASTERED not in bob.text()
        assert "Another explanation" not in bob.text()
        assert "Signed in as e2e-bob (learner)" in bob.text()
        assert len(alice_answers) > 5
        bob.shot("05-second-learner")
        # a URL naming Alice (by name or id), and a second tab: still Bob's own session
        for query in (f"?learner=e2e-alice&course={COURSE}", f"?learner_id={alice.key}&course={COURSE}",
                      f"?course={COURSE}&thread={alice.key}:{COURSE}"):
            bob.page.goto(bob.server.url + "/" + query)
            bob.page.get_by_text("Signed in as").wait_for(timeout=TURN_TIMEOUT)
            bob.page.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=TURN_TIMEOUT)
            bob.settle()
            assert "Signed in as e2e-bob" in bob.text()
            assert bob.learner_messages() == [] and MASTERED not in bob.text()
        second = bob.page.context.new_page()
        second.goto(f"{server.url}/?course={COURSE}")
        second.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=TURN_TIMEOUT)
        assert "Signed in as e2e-bob" in second.inner_text("body")
        assert MASTERED not in second.inner_text("body")
        # none of Alice's messages (her answers are choice texts, which Bob's own question may also show)
        assert second.locator('[aria-label="Chat message from user"]').count() == 0


def test_content_and_evaluate_pages_work_in_the_browser(browser: Any, server: Server, shots: Path) -> None:
    """Validate a course, upload material with a progress bar, see the store and item analysis, run the
    mastery benchmark and download its JSON."""
    with learner(browser, server, "e2e-carol", shots, role="author") as carol:
        carol.sign_in()  # one wrong answer, so the attempt log is never empty
        carol.answer(pending_item(server.data_dir, carol.key), pending_item(server.data_dir, carol.key).wrong)
        nav = carol.page.get_by_test_id("stSidebarNavLink").all_inner_texts()
        assert [n.split()[-1] for n in nav] == ["Learn", "Content", "Review"]  # (each link starts with its icon)

        page = carol.page
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Content").click()
        page.get_by_role("button", name="Validate").click()
        page.get_by_text("no problems found").wait_for(timeout=TURN_TIMEOUT)
        carol.shot("06-content-validate")

        page.get_by_role("tab", name="Source material").click()
        # the box labelled exactly "Course": the page's item-bank section has its own "Course folder" box
        page.get_by_test_id("stSelectbox").filter(visible=True).filter(
            has=page.get_by_text("Course", exact=True)).click()
        page.get_by_role("option", name="Fractions").click()
        carol.settle()
        notes = b"# Fractions in the kitchen\n\nHalf a cup and a quarter cup make three quarters of a cup.\n"
        page.get_by_test_id("stFileUploader").filter(has=page.get_by_text("Source files", exact=True)).get_by_test_id(
            "stFileUploaderDropzoneInput").set_input_files(
            files=[{"name": "kitchen-e2e.md", "mimeType": "text/markdown", "buffer": notes}])
        carol.settle()
        page.get_by_role("button", name="Store these passages").click()
        page.get_by_text("Stored 1 file(s)").wait_for(timeout=TURN_TIMEOUT)
        carol.settle()
        assert "Stored 1 file(s)" in carol.text()  # with no skill picked, a warning says it cannot teach yet
        assert "Pick the skills" in carol.text()
        carol.shot("07-content-upload")

        page.get_by_role("tab", name="Item analysis").click()
        page.get_by_test_id("stSelectbox").filter(visible=True).filter(
            has=page.get_by_text("Course", exact=True)).click()
        page.get_by_role("option", name="Fractions").click()
        carol.settle()
        page.get_by_text("Items answered").wait_for(timeout=TURN_TIMEOUT)
        carol.shot("08-content-item-analysis")

        page.goto(f"{server.url}/evaluate")  # an author may not run evaluations, even by URL
        page.get_by_text("Not allowed").wait_for(timeout=TURN_TIMEOUT)
        carol.settle()
        assert "Not allowed: your role (author) cannot use this page" in carol.text()
        assert "Run the mastery benchmark" not in carol.text()

    with learner(browser, server, "e2e-dave", shots, role="instructor") as dave:
        dave.sign_in_only()
        page = dave.page
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Evaluate").click()
        page.get_by_role("button", name="Run the mastery benchmark").click()
        page.get_by_text("Mastery benchmark · running").or_(page.get_by_text("Mastery benchmark · queued")).or_(
            page.get_by_text("Mastery benchmark · done")).first.wait_for(timeout=60_000)
        dave.shot("09a-evaluate-job")
        page.get_by_text("Mastery benchmark · done").wait_for(timeout=180_000)
        page.get_by_role("button", name="Download JSON").first.wait_for(timeout=60_000)
        dave.settle()
        assert page.get_by_test_id("stImage").count() >= 1
        with page.expect_download() as download:
            page.get_by_role("button", name="Download JSON").first.click()
        report = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert "policies" in report
        page.get_by_text("Results (run").first.scroll_into_view_if_needed()
        dave.shot("09-evaluate")
