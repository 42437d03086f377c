"""Accounts, sign-in and roles: who may do what in the tutor."""

from tutor.auth.names import AccountNameError, clean_display_name, normalise_username
from tutor.auth.passwords import PasswordError
from tutor.auth.permissions import PERMISSIONS, Action, Role, allowed, parse_role
from tutor.auth.store import Account, AccountError, Accounts, SignInRefused, Throttled
from tutor.auth.throttle import Policy, locked_until

__all__ = [
    "PERMISSIONS", "Account", "AccountError", "AccountNameError", "Accounts", "Action", "PasswordError", "Policy",
    "Role", "SignInRefused", "Throttled", "allowed", "clean_display_name", "locked_until", "normalise_username",
    "parse_role",
]
