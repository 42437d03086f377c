"""`tutor groups ...` and `tutor report`: cohorts and the organisation's figures from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from tutor.auth.store import AccountError, Accounts
from tutor.groups import GroupError, Groups, MemberRole
from tutor.settings import Settings

ORG_ERRORS = (AccountError, GroupError, ValueError)
"""What a groups command reports in one line (unknown names, duplicate groups, a malformed date)."""


def _accounts(settings: Settings) -> Accounts:
    return Accounts(settings.resolved_database_url)


def _groups(settings: Settings) -> Groups:
    return Groups(_accounts(settings).engine)


def _account_id(settings: Settings, username: str) -> str:
    account = _accounts(settings).find(username)
    if account is None:
        raise AccountError(f"no account {username!r}; `tutor users list` shows the accounts")
    return str(account.id)


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    group = _groups(settings).create(args.name, created_by="cli", now=datetime.now(UTC))
    print(f"created group {group.name} (id {group.id})")
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    groups = _groups(settings)
    role: MemberRole = "instructor" if args.instructor else "learner"
    for username in args.usernames:
        groups.add_member(args.group, _account_id(settings, username), role)
        print(f"{username} is now {'an instructor' if args.instructor else 'a learner'} of {args.group}")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    groups = _groups(settings)
    role: MemberRole = "instructor" if args.instructor else "learner"
    for username in args.usernames:
        groups.remove_member(args.group, _account_id(settings, username), role)
        print(f"removed {username} from {args.group}")
    return 0


def cmd_assign(args: argparse.Namespace, settings: Settings) -> int:
    due = date.fromisoformat(args.due) if args.due else None
    _groups(settings).assign_course(args.group, args.course, due)
    print(f"assigned {args.course} to {args.group}" + (f", due {due:%Y-%m-%d}" if due else ""))
    return 0


def cmd_list(_args: argparse.Namespace, settings: Settings) -> int:
    accounts = _accounts(settings)
    names = {a.id: a.username for a in accounts.all()}
    groups = _groups(settings).visible_to("cli", admin=True)
    for g in groups:
        courses = ", ".join(f"{c}" + (f" (due {d:%Y-%m-%d})" if d else "") for c, d in g.courses) or "-"
        print(f"{g.name}: {len(g.learners)} learner(s), instructors: "
              f"{', '.join(names.get(i, i) for i in g.instructors) or '-'}; courses: {courses}")
    if not groups:
        print("no groups yet: `tutor groups create NAME`")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.cohort import CohortError, course_report

    try:
        text = course_report(settings, args.course, group=args.group, fmt=args.format, now=datetime.now(UTC))
    except CohortError as exc:
        print(f"tutor report: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    groups = commands.add_parser("groups", help="cohorts: learners, instructors and assigned courses")
    sub = groups.add_subparsers(dest="groups_command", required=True)
    create = sub.add_parser("create", help="create a group")
    create.add_argument("name")
    create.set_defaults(func=cmd_create)
    for name, func, text in (("add", cmd_add, "add learners (or --instructor) to a group"),
                             ("remove", cmd_remove, "remove learners (or --instructor) from a group")):
        p = sub.add_parser(name, help=text)
        p.add_argument("group", help="group name or id")
        p.add_argument("usernames", nargs="+", help="account user names")
        p.add_argument("--instructor", action="store_true", help="as instructors of the group")
        p.set_defaults(func=func)
    assign = sub.add_parser("assign", help="assign a course to a group")
    assign.add_argument("group", help="group name or id")
    assign.add_argument("course", help="course id")
    assign.add_argument("--due", help="due date, YYYY-MM-DD")
    assign.set_defaults(func=cmd_assign)
    listing = sub.add_parser("list", help="list groups")
    listing.set_defaults(func=cmd_list)

    report = commands.add_parser("report", help="who has mastered what: a course's grid, figures and stuck learners")
    report.add_argument("--course", required=True, help="course id")
    report.add_argument("--group", help="only this group's learners (default: every learner with records)")
    report.add_argument("--format", choices=("csv", "json"), default="json")
    report.add_argument("--out", help="write to this file instead of standard output")
    report.set_defaults(func=cmd_report)
