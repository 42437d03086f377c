"""A reviewed free-text answer changes the learner's mastery state, in a real browser against the real app.

A learner answers the mini course in Chromium until a free-text question comes; their answer is graded unsure
(the course sets strict thresholds, so every free-text answer goes to a person) and they are told it waits for
review. An instructor, in another browser, grades it Correct on the Review page with one click. At the learner's
next turn the page shows the result and a higher mastery estimate for the skill.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, app_env, load_content, running_app
from tests.e2e.test_learner_journey import TURN_TIMEOUT, Learner, pending_item
from tutor.course.loader import load_course
from tutor.course.models import FreeResponseItem, ShortTextItem

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-review-pass-1"


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on a content folder holding the mini course with strict free-text thresholds, and two accounts."""
    base = tmp_path_factory.mktemp("e2e-review")
    content = base / "content"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini-course", content / "mini")
    course_file = content / "mini" / "course.yaml"
    course_file.write_text(course_file.read_text() + "grading: {pass_at: 0.999, fail_at: 0.001}\n")
    env = app_env(base / "data")
    env["TUTOR_CONTENT_DIR"] = str(content)
    load_content(base, env)
    for name, role in (("lena", "learner"), ("ivan", "instructor")):
        made = subprocess.run([sys.executable, "-m", "tutor.cli", "users", "add", name, "--role", role,
                               "--password-stdin"], input=PASSWORD + "\n", cwd=base, env=env, capture_output=True,
                              text=True, timeout=120)
        assert made.returncode == 0, made.stderr
    with running_app(base, env, base / "data") as app:
        yield app


def sign_in(person: Learner, name: str) -> None:
    page = person.page
    page.goto(person.server.url)
    page.get_by_label("Sign-in name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    person.settle()


def learner_thread(data_dir: Path) -> str:
    conn = sqlite3.connect(str(data_dir / "checkpoints.sqlite"))
    try:
        [(thread,)] = conn.execute("SELECT DISTINCT thread_id FROM checkpoints").fetchall()
    finally:
        conn.close()
    return str(thread).rsplit(":", 1)[0]


def estimate(person: Learner) -> int:
    caption = person.page.get_by_text(re.compile(r"^Mastery estimate \d+%")).first
    caption.wait_for(timeout=TURN_TIMEOUT)
    found = re.match(r"^Mastery estimate (\d+)%", caption.inner_text().strip())
    assert found
    return int(found.group(1))


def test_a_reviewed_answer_changes_the_learners_mastery_state(browser: Any, review_server: Server,
                                                               shots: Path) -> None:
    mini = load_course(ROOT / "tests" / "fixtures" / "mini-course")
    learner_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    teacher_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        lena = Learner(learner_context.new_page(), review_server, "lena", shots)
        sign_in(lena, "lena")
        lena.page.get_by_role("button", name="Start learning").click()
        lena.page.get_by_text(re.compile(r"^Question\s+\S+")).first.wait_for(timeout=TURN_TIMEOUT)
        lena.settle()
        key = learner_thread(review_server.data_dir)
        for _ in range(40):
            pending = pending_item(review_server.data_dir, key, mini)
            if isinstance(pending.item, FreeResponseItem):
                break
            # the free-text items share their skill with short-text ones: answered right, three of those could
            # master it (and end the course) before a free-text item is drawn, so those are answered wrong
            lena.answer(pending, pending.wrong if isinstance(pending.item, ShortTextItem) else pending.right)
        assert isinstance(pending.item, FreeResponseItem), "no free-text question within 40 answers"
        lena.answer(pending, pending.right)
        assert "waiting for a teacher to review it" in lena.text()
        before = estimate(lena)
        lena.shot("review-1-learner-waiting")

        ivan = Learner(teacher_context.new_page(), review_server, "ivan", shots)
        sign_in(ivan, "ivan")
        ivan.page.get_by_role("link", name="Review").click()
        ivan.page.get_by_text("Review answers").first.wait_for(timeout=TURN_TIMEOUT)
        ivan.settle()
        assert pending.right.split(".")[0] in ivan.text() and "likely correct" in ivan.text()
        ivan.shot("review-2-instructor-queue")
        ivan.page.get_by_role("button", name="Correct", exact=True).click()
        ivan.page.get_by_text("Nothing is waiting for review.").wait_for(timeout=TURN_TIMEOUT)
        ivan.shot("review-3-instructor-graded")

        lena.say("where am i")
        assert "A teacher reviewed your answer" in lena.text()
        after = estimate(lena)
        lena.shot("review-4-learner-result")
        assert after > before, f"mastery estimate {before}% -> {after}% after the review"
    finally:
        learner_context.close()
        teacher_context.close()
