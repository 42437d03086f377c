"""`tutor users ...`: add, list, set-role, reset-password, disable, link and ensure-admin.

Passwords are never taken on the command line (where shell history and `ps` would keep them): they are read from
standard input with `--password-stdin`, or generated and printed once.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from tutor.auth.names import AccountNameError
from tutor.auth.passwords import PasswordError
from tutor.auth.permissions import Role, parse_role
from tutor.auth.store import Account, AccountError, Accounts
from tutor.session import LearnerIdError
from tutor.settings import Settings


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new password and whether it was generated (and must then be shown once and changed)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return secrets.token_urlsafe(12), True


def _line(a: Account) -> str:
    state = "disabled" if a.disabled else "active"
    how = "password" if a.has_password else "single sign-on"
    linked = f"  records: {a.learner_key}" if a.learner_key != a.id else ""
    return f"{a.username:<20} {a.role.value:<11} {state:<9} {how:<15} {a.display_name}  id: {a.id}{linked}"


def _accounts(settings: Settings) -> Accounts:
    return Accounts(settings.resolved_database_url)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    password, generated = _password(args)
    account = _accounts(settings).add(args.name, password, parse_role(args.role), display_name=args.display_name,
                                      must_change_password=generated)
    print(f"added {account.username} ({account.role.value}), id {account.id}")
    if generated:
        print(f"one-time password for {account.username}: {password}")
    return 0


def cmd_list(_args: argparse.Namespace, settings: Settings) -> int:
    accounts = _accounts(settings).all()
    for account in accounts:
        print(_line(account))
    if not accounts:
        print("no accounts yet: add one with `tutor users add NAME --role admin`")
    return 0


def cmd_set_role(args: argparse.Namespace, settings: Settings) -> int:
    account = _accounts(settings).set_role(args.name, parse_role(args.role))
    print(f"{account.username} is now {account.role.value} (signed out everywhere)")
    return 0


def cmd_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    password, generated = _password(args)
    account = _accounts(settings).reset_password(args.name, password, must_change=generated)
    print(f"password of {account.username} reset (signed out everywhere)")
    if generated:
        print(f"one-time password for {account.username}: {password}")
    return 0


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    account = _accounts(settings).set_disabled(args.name, not args.enable)
    print(f"{account.username} {'enabled' if args.enable else 'disabled (signed out everywhere)'}")
    return 0


def cmd_link(args: argparse.Namespace, settings: Settings) -> int:
    accounts = _accounts(settings)
    target = accounts.get(args.account) or accounts.find(args.account)
    if target is None:
        raise AccountError(f"no account with id or name {args.account!r} (see `tutor users list`)")
    account = accounts.link(target.username, args.name)
    print(f"{account.username} now continues the learning recorded as {account.learner_key!r}")
    return 0


def cmd_ensure_admin(args: argparse.Namespace, settings: Settings) -> int:
    """Create a local admin with a one-time password, only when there is no active admin (used by `make run`)."""
    accounts = _accounts(settings)
    if accounts.has_admin():
        print("an admin account exists; sign in with it (or `tutor users reset-password NAME`)")
        return 0
    password = secrets.token_urlsafe(12)
    name = args.name
    if accounts.find(name) is not None:
        accounts.set_role(name, Role.ADMIN)
        accounts.set_disabled(name, False)
        accounts.reset_password(name, password, must_change=True)
    else:
        accounts.add(name, password, Role.ADMIN, must_change_password=True)
    print(f"created admin account {name!r}; one-time password: {password}")
    print("sign in at the app with it, then choose your own under Change password in the sidebar")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = commands.add_parser("users", help="accounts and roles (learner, author, instructor, admin)")
    sub = users.add_subparsers(dest="users_command", required=True)
    roles = ", ".join(r.value for r in Role)

    add = sub.add_parser("add", help="add an account (prints a one-time password unless --password-stdin)")
    add.add_argument("name", help="sign-in name (any script's letters, digits, _ . @ -)")
    add.add_argument("--role", default="learner", help=f"one of {roles} (default learner)")
    add.add_argument("--display-name", help="the name shown in the app (default: the sign-in name)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    add.set_defaults(func=cmd_add)

    sub.add_parser("list", help="list accounts").set_defaults(func=cmd_list)

    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("name")
    role.add_argument("role", help=roles)
    role.set_defaults(func=cmd_set_role)

    reset = sub.add_parser("reset-password", help="set a new password (prints a one-time one unless --password-stdin)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    reset.set_defaults(func=cmd_reset_password)

    disable = sub.add_parser("disable", help="disable an account (it can no longer sign in)")
    disable.add_argument("name")
    disable.add_argument("--enable", action="store_true", help="enable it again instead")
    disable.set_defaults(func=cmd_disable)

    link = sub.add_parser("link", help="attach an existing name-only learner history to an account")
    link.add_argument("name", help="the learner name the history was recorded under (as typed before accounts)")
    link.add_argument("--account", required=True, help="the account's id or sign-in name")
    link.set_defaults(func=cmd_link)

    ensure = sub.add_parser("ensure-admin", help="create a local admin with a one-time password if there is none")
    ensure.add_argument("--name", default="admin", help="its sign-in name (default admin)")
    ensure.set_defaults(func=cmd_ensure_admin)


USER_ERRORS = (AccountError, AccountNameError, PasswordError, LearnerIdError, ValueError)
