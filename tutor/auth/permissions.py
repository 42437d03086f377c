"""Roles and what each may do: one table of role x action, read by one pure function.

Every page and every action in the app asks `allowed(role, action)` on the server before it runs.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    AUTHOR = "author"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class Action(StrEnum):
    LEARN = "learn"                      # own sessions only: the learner is always the signed-in account
    CONTENT_VIEW = "content_view"        # the Content page: passage store, item analysis
    CONTENT_VALIDATE = "content_validate"
    CONTENT_UPLOAD = "content_upload"
    CONTENT_REMOVE = "content_remove"
    EVALUATE = "evaluate"                # the Evaluate page: see results
    RUN_JOB = "run_job"                  # queue heavy jobs (evals, benchmarks)
    CANCEL_ANY_JOB = "cancel_any_job"    # cancel another person's job
    VIEW_PROGRESS = "view_progress"      # learners' progress and answers (instructor views)
    MANAGE_USERS = "manage_users"        # the Admin page: accounts and roles
    REVIEW_ANSWERS = "review_answers"    # the Review page: grade free-text answers the grader was unsure of


_L, _A, _I, _D = Role.LEARNER, Role.AUTHOR, Role.INSTRUCTOR, Role.ADMIN

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.LEARN: frozenset({_L, _A, _I, _D}),
    Action.CONTENT_VIEW: frozenset({_A, _D}),
    Action.CONTENT_VALIDATE: frozenset({_A, _D}),
    Action.CONTENT_UPLOAD: frozenset({_A, _D}),
    Action.CONTENT_REMOVE: frozenset({_A, _D}),
    Action.EVALUATE: frozenset({_I, _D}),
    Action.RUN_JOB: frozenset({_I, _D}),
    Action.CANCEL_ANY_JOB: frozenset({_D}),
    Action.VIEW_PROGRESS: frozenset({_I, _D}),
    Action.MANAGE_USERS: frozenset({_D}),
    Action.REVIEW_ANSWERS: frozenset({_A, _I, _D}),
}
"""Which roles may take each action. Anything not listed here is refused."""


def allowed(role: Role | str | None, action: Action) -> bool:
    """True when `role` may take `action`; no role (not signed in) or an unknown role may do nothing."""
    if role is None:
        return False
    try:
        return Role(role) in PERMISSIONS.get(action, frozenset())
    except ValueError:
        return False


def parse_role(raw: str) -> Role:
    """A role from text ("Author" -> Role.AUTHOR); ValueError naming the choices otherwise."""
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {raw!r}: use one of {', '.join(r.value for r in Role)}") from None
