"""Role checks on the server (AppTest): each page refuses a role that may not use it, even when opened
directly, and the Admin page manages accounts."""

from __future__ import annotations

import pytest

from tests.ui.conftest import all_text, click, new_app, open_page
from tests.ui.fakes import FakeTutor
from tutor.auth import Accounts, Role
from tutor.settings import Settings

PAGES = {"pages/content.py": "Content", "pages/evaluate.py": "Evaluate", "pages/admin.py": "Accounts and roles",
         "pages/review.py": "Review answers"}
MAY = {
    Role.LEARNER: set(),
    Role.AUTHOR: {"pages/content.py", "pages/review.py"},
    Role.INSTRUCTOR: {"pages/evaluate.py", "pages/review.py"},
    Role.ADMIN: set(PAGES),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_runs_only_for_the_roles_that_may_use_it(fake: FakeTutor, role: Role, page: str) -> None:
    at = open_page(page, f"someone-{role.value}", role)
    assert not at.exception
    title = PAGES[page]
    if page in MAY[role]:
        assert title in [t.value for t in at.title]
        assert not any(e.value.startswith("Not allowed") for e in at.error)
    else:
        assert [e.value for e in at.error] == [f"Not allowed: your role ({role.value}) cannot use this page. "
                                                "Ask an admin if you need it."]
        assert title not in [t.value for t in at.title]


@pytest.mark.parametrize("page", list(PAGES))
def test_an_anonymous_visitor_opening_a_page_directly_is_refused(fake: FakeTutor, page: str) -> None:
    at = new_app()
    at.switch_page(page)
    at = at.run()
    assert [e.value for e in at.error] == ["Not allowed: sign in first."]
    assert PAGES[page] not in all_text(at)


def test_the_admin_page_adds_accounts_and_changes_roles(fake: FakeTutor, settings: Settings) -> None:
    at = open_page("pages/admin.py", "root", Role.ADMIN)
    at.text_input(key="admin_new_name").input("José")
    at.selectbox(key="admin_new_role").select("author")
    at = click(at, "Add")
    assert not at.exception
    assert at.success and "Added josé (author). One-time password, shown once:" in at.success[0].value
    accounts = Accounts(settings.resolved_database_url)
    assert accounts.find("josé") is not None and accounts.find("josé").role is Role.AUTHOR  # type: ignore[union-attr]
    at.selectbox(key="admin_who").select("josé")
    at.selectbox(key="admin_role").select("instructor")
    at = click(at, "Set role")
    assert [s.value for s in at.success] == ["josé is now instructor."]
    at.selectbox(key="admin_who").select("root")
    at = click(at, "Disable")
    assert "cannot disable yourself" in at.error[0].value
    assert accounts.find("root").disabled is False  # type: ignore[union-attr]


def test_learners_register_themselves_only_when_it_is_on(fake: FakeTutor, settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    at = new_app().run()
    assert not at.tabs and "Create my learner account" not in all_text(at)
    monkeypatch.setenv("TUTOR_SELF_REGISTRATION", "true")
    at = new_app().run()
    assert [t.label for t in at.tabs] == ["Sign in", "Register"]
    at.text_input(key="register_name").input("José")
    at.text_input(key="register_display").input("José Álvarez")
    at.text_input(key="register_password").input("short")
    at = click(at, "Create my learner account")
    assert "at least 8" in at.error[0].value
    at.text_input(key="register_password").input("a long enough password")
    at = click(at, "Create my learner account")
    assert not at.exception
    assert "Signed in as **José Álvarez** (learner)" in [m.value for m in at.sidebar.markdown]
    made = Accounts(settings.resolved_database_url).find("josé")
    assert made is not None and made.role is Role.LEARNER
