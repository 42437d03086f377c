"""Sign-in and roles in a real browser: an anonymous visitor sees only sign-in, a learner cannot open the
Content, Evaluate or Admin pages by URL, repeated bad passwords are throttled, a reload keeps the session, and
no password or sign-in token ever reaches the server's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD_SUFFIX, Server
from tests.e2e.test_learner_journey import learner

pytestmark = pytest.mark.e2e


def test_an_anonymous_visitor_sees_only_sign_in(browser: Any, server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        for path in ("/", "/content", "/evaluate", "/admin", "/?course=fractions"):
            page.goto(server.url + path)
            page.get_by_label("Sign-in name").wait_for(timeout=60_000)
            page.get_by_label("Password", exact=True).wait_for(timeout=60_000)
            page.wait_for_timeout(250)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
            text = page.inner_text("body")
            assert "Sign-in name" in text and "Password" in text
            assert page.get_by_test_id("stSidebarNavLink").count() == 0
            for hidden in ("Validate a course", "Run the mastery benchmark", "Accounts and roles", "Start learning",
                           "Running offline"):
                assert hidden not in text, f"{path} shows {hidden!r} to an anonymous visitor"
        page.goto(server.url)
        page.get_by_role("button", name="Sign in").wait_for()
        page.screenshot(path=str(shots / "10-sign-in.png"), full_page=True)
    finally:
        context.close()


def test_a_learner_cannot_open_content_evaluate_or_admin(browser: Any, server: Server, shots: Path) -> None:
    with learner(browser, server, "e2e-lena", shots) as lena:
        lena.sign_in_only()
        nav = [n.strip() for n in lena.page.get_by_test_id("stSidebarNavLink").all_inner_texts()]
        assert set(nav) <= {"Learn"}  # with one page Streamlit shows no navigation at all
        assert not {"Content", "Evaluate", "Admin"} & set(lena.text().split())
        for path, marker in (("/content", "Validate a course"), ("/evaluate", "Run the mastery benchmark"),
                             ("/admin", "Add an account")):
            lena.page.goto(server.url + path)
            lena.page.get_by_text("Not allowed").wait_for(timeout=60_000)
            lena.settle()
            text = lena.text()
            assert "Not allowed: your role (learner) cannot use this page" in text, path
            assert marker not in text
        lena.shot("11-learner-not-allowed")


def test_repeated_bad_passwords_are_throttled_and_a_reload_keeps_the_session(
    browser: Any, server: Server, shots: Path
) -> None:
    with learner(browser, server, "e2e-eve", shots) as eve:
        for attempt in range(5):
            eve.sign_in_only(password=f"not-it-{attempt}")
            assert "Wrong sign-in name or password" in eve.text()
        eve.sign_in_only()  # the right password, too soon
        assert "Too many failed sign-ins" in eve.text()
        assert "Signed in as" not in eve.text()
        eve.shot("12-throttled")
    with learner(browser, server, "e2e-rita", shots) as rita:
        rita.sign_in_only()
        assert "Signed in as e2e-rita (learner)" in rita.text()
        cookies = {c["name"]: c["value"] for c in rita.page.context.cookies()}
        assert cookies.get("tutor_session")
        rita.page.reload()
        rita.page.get_by_text("Signed in as").wait_for(timeout=60_000)
        rita.settle()
        assert "Signed in as e2e-rita (learner)" in rita.text() and "Sign-in name" not in rita.text()
        rita.page.get_by_role("button", name="Sign out").click()
        rita.settle()
        assert "Sign-in name" in rita.text()
        rita.page.reload()
        rita.page.get_by_label("Sign-in name").wait_for(timeout=60_000)
        rita.settle()
        assert "Signed in as" not in rita.text(), "signing out must survive a reload"
        token = cookies["tutor_session"]
    log = server.log.read_text(encoding="utf-8", errors="replace")
    for secret in (token, "e2e-rita" + PASSWORD_SUFFIX, "e2e-eve" + PASSWORD_SUFFIX, "not-it-0"):
        assert secret not in log
    secret_file = server.data_dir / "auth_secret"
    assert secret_file.read_text().strip() not in log
