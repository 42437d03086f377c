"""The Instructor page in a real browser: a group whose learners were driven through the tutor; the instructor sees
the heat map, who is stuck and why, and the evidence of a mastery; another group's instructor sees none of it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CONTENT, Server, add_account
from tests.e2e.test_learner_journey import learner
from tests.support.learner import answer, drain
from tutor.auth import Accounts
from tutor.groups import Groups
from tutor.session import Tutor
from tutor.settings import Settings

pytestmark = pytest.mark.e2e


def _seed(server: Server) -> None:
    keys = {name: add_account(server, name, role) for name, role in
            (("e2e-org-ada", "learner"), ("e2e-org-bob", "learner"), ("e2e-org-cyd", "learner"),
             ("e2e-org-ines", "instructor"), ("e2e-org-sol", "instructor"))}
    tutor = Tutor(Settings(_env_file=None, data_dir=server.data_dir, content_dir=CONTENT))
    accounts = Accounts(tutor.settings.resolved_database_url)
    try:
        ids = {name: accounts.find(name).id for name in keys}  # type: ignore[union-attr]
        groups = Groups(tutor.records.engine)
        now = datetime.now(UTC)
        for group, learners, teacher in (("E2E North", ("e2e-org-ada", "e2e-org-bob"), "e2e-org-ines"),
                                         ("E2E South", ("e2e-org-cyd",), "e2e-org-sol")):
            groups.create(group, created_by="e2e", now=now)
            for name in learners:
                groups.add_member(group, ids[name])
            groups.add_member(group, ids[teacher], "instructor")
            groups.assign_course(group, "fractions")
        for name, turns, right in (("e2e-org-ada", 14, True), ("e2e-org-bob", 8, False), ("e2e-org-cyd", 1, True)):
            drain(tutor.start(keys[name], "fractions"))
            for _ in range(turns):
                drain(tutor.send(keys[name], "fractions", answer(tutor, keys[name], "fractions", right=right)))
    finally:
        accounts.close()
        tutor.close()


def test_an_instructor_sees_mastery_stuck_learners_and_evidence(browser: Any, server: Server, shots: Path) -> None:
    _seed(server)
    with learner(browser, server, "e2e-org-ines", shots, role="instructor") as ines:
        ines.sign_in_only()
        ines.page.goto(server.url + "/instructor")
        ines.settle()
        ines.page.get_by_text("Who is stuck, and why").wait_for(timeout=60_000)
        ines.shot("30-instructor-group")
        text = ines.text()
        assert "Groups and mastery" in text and "Completed the course" in text and "0 of 2" in text
        assert "e2e-org-ada" in text and "e2e-org-bob" in text and "e2e-org-cyd" not in text
        assert "re-taught" in text
        ines.page.get_by_test_id("stExpander").filter(has_text="Mastered What a fraction means").locator(
            "summary").click()
        ines.page.get_by_text("Criterion: mastery estimate at least").first.wait_for(timeout=30_000)
        assert "Criterion:" in ines.text()
        ines.shot("31-instructor-evidence")
    with learner(browser, server, "e2e-org-sol", shots, role="instructor") as sol:
        sol.sign_in_only()
        sol.page.goto(server.url + "/instructor")
        sol.settle()
        sol.page.get_by_text("Who is stuck, and why").wait_for(timeout=60_000)
        text = sol.text()
        assert "e2e-org-cyd" in text and "e2e-org-ada" not in text and "e2e-org-bob" not in text
