"""Role checks as a table: every role x every action, written out, against the one permission table."""

from __future__ import annotations

import pytest

from tutor.auth import Action, Role, allowed, parse_role

L, A, N, D = "learner", "author", "instructor", "admin"
EXPECTED: dict[Action, set[str]] = {
    Action.LEARN: {L, A, N, D},
    Action.CONTENT_VIEW: {A, D},
    Action.CONTENT_VALIDATE: {A, D},
    Action.CONTENT_UPLOAD: {A, D},
    Action.CONTENT_REMOVE: {A, D},
    Action.EVALUATE: {N, D},
    Action.RUN_JOB: {N, D},
    Action.CANCEL_ANY_JOB: {D},
    Action.VIEW_PROGRESS: {N, D},
    Action.MANAGE_USERS: {D},
    Action.REVIEW_ANSWERS: {A, N, D},
}


def test_the_table_names_every_action() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in Role for a in Action])
def test_role_x_action(role: Role, action: Action) -> None:
    assert allowed(role, action) is (role.value in EXPECTED[action])
    assert allowed(role.value, action) is (role.value in EXPECTED[action])


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [None, "", "root", "ADMIN "])
def test_no_role_or_an_unknown_role_may_do_nothing(role: str | None, action: Action) -> None:
    assert allowed(role, action) is False


def test_parse_role_names_the_choices() -> None:
    assert parse_role(" Author ") is Role.AUTHOR
    with pytest.raises(ValueError, match="learner, author, instructor, admin"):
        parse_role("teacher")
