"""The `tutor` command: content validate|add|list|remove|load, chat, calibrate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tutor.course.loader import discover_courses, validate_course
from tutor.settings import Settings


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    paths = [Path(p) for p in args.paths] or discover_courses(settings.content_dir)
    status = 0
    for path in paths:
        problems = validate_course(path)
        if problems:
            status = 1
            print(f"{path}: {len(problems)} problem(s)")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{path}: ok")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tutor", description="Mastery Tutor: learn a skill until you master it.")
    commands = parser.add_subparsers(dest="command", required=True)

    content = commands.add_parser("content", help="validate and manage course content")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    validate = content_commands.add_parser("validate", help="check course folders and list every problem")
    validate.add_argument("paths", nargs="*", help="course folders (default: every course under the content dir)")
    validate.set_defaults(func=cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    code: int = args.func(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
