"""Sign-in throttling (a pure rule over failure times) and account names in any script."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tutor.auth import AccountNameError, Policy, clean_display_name, locked_until, normalise_username
from tutor.session import normalise_learner_id

T0 = datetime(2026, 11, 30, 12, 0)
POLICY = Policy(max_failures=3, window=timedelta(minutes=10))


def test_fewer_failures_than_the_limit_do_not_lock() -> None:
    assert locked_until([T0, T0 + timedelta(minutes=1)], T0 + timedelta(minutes=2), POLICY) is None


def test_the_limit_locks_until_the_oldest_counted_failure_leaves_the_window() -> None:
    failures = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert locked_until(failures, T0 + timedelta(minutes=3), POLICY) == T0 + timedelta(minutes=10)
    assert locked_until(failures, T0 + timedelta(minutes=10, seconds=1), POLICY) is None


def test_old_failures_do_not_count() -> None:
    failures = [T0 - timedelta(hours=1), T0 - timedelta(minutes=30), T0]
    assert locked_until(failures, T0 + timedelta(seconds=1), POLICY) is None


@pytest.mark.parametrize(("raw", "stored"), [("José", "josé"), ("李雷", "李雷"), (" Alice ", "alice"),
                                             ("mary.ann@example.org", "mary.ann@example.org")])
def test_sign_in_names_accept_any_script(raw: str, stored: str) -> None:
    assert normalise_username(raw) == stored


@pytest.mark.parametrize("raw", ["", "a b", "../x", "_x", "a:b", "x" * 65, "<script>"])
def test_unusable_sign_in_names_are_refused(raw: str) -> None:
    with pytest.raises(AccountNameError, match="cannot be used"):
        normalise_username(raw)


def test_display_names_keep_their_letters() -> None:
    assert clean_display_name("  José   Álvarez ") == "José Álvarez"
    assert clean_display_name("李雷") == "李雷"
    with pytest.raises(AccountNameError):
        clean_display_name("bad\x00name")


@pytest.mark.parametrize(("raw", "key"), [("José", "josé"), ("李雷", "李雷"),
                                          ("9fac08b69b154076880702e3e27ffca4", "9fac08b69b154076880702e3e27ffca4")])
def test_learner_ids_accept_any_script_and_internal_ids(raw: str, key: str) -> None:
    assert normalise_learner_id(raw) == key
