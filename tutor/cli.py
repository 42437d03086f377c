"""The `tutor` command: content new|validate|add|list|remove|load, chat, calibrate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tutor.course.loader import discover_courses, linked_out_courses, validate_course
from tutor.errors import SetupError, load_settings, setup_errors, setup_message
from tutor.settings import Settings


def _refused_courses(settings: Settings) -> int:
    """Print the course folders that are links out of the content folder; 1 when there are any."""
    refused = linked_out_courses(settings.content_dir)
    for exc in refused:
        print(f"{exc.path}: not loaded: {exc.reason}; copy the course into the content folder instead of linking")
    return 1 if refused else 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    paths = [Path(p) for p in args.paths] or discover_courses(settings.content_dir)
    status = 0 if args.paths else _refused_courses(settings)
    if not paths:
        print(f"no course folders (with a course.yaml) under {settings.content_dir}; give a course folder's path")
        return 1
    for path in paths:
        found = validate_course(path, with_warnings=True)
        errors = [p for p in found if p.severity == "error"]
        if errors:
            status = 1
        if found:
            counts = f"{len(errors)} problem(s)" + (f", {len(found) - len(errors)} warning(s)"
                                                    if len(found) > len(errors) else "")
            print(f"{path}: " + (counts if errors else f"ok, {len(found)} warning(s)"))
            for problem in found:
                print(f"  {problem}")
        else:
            print(f"{path}: ok")
    return status


def cmd_content_new(args: argparse.Namespace, settings: Settings) -> int:
    """Scaffold a valid, commented course folder under the content dir."""
    from tutor.course.scaffold import ScaffoldError, new_course

    try:
        root = new_course(settings.content_dir, args.id, args.title)
    except ScaffoldError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"created {root}: edit course.yaml, items/ and sources/ (the comments explain each field), then run "
          f"`tutor content validate {root}`; the app finds it without a restart")
    return 0


def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every course under the content dir and load its sources into the passage store."""
    from tutor.retrieval import IngestLimits, ingest_course, open_store

    status = _refused_courses(settings)
    courses = discover_courses(settings.content_dir)
    if not courses:
        print(f"no courses under {settings.content_dir}", file=sys.stderr)
        return 1
    store = open_store(settings)
    for path in courses:
        problems = validate_course(path)
        if problems:
            status = 1
            print(f"{path}: not loaded, {len(problems)} problem(s); run `tutor content validate {path}`")
            continue
        report = ingest_course(store, path, limits=IngestLimits.from_settings(settings))
        print(f"{path}: {report}")
        for skipped in report.skipped:
            print(f"  {skipped}")
    return status


def _course_of(path: Path, settings: Settings) -> str | None:
    """The course a path belongs to when it lies inside <content dir>/<course>/, else None."""
    from tutor.retrieval.ingest import course_id

    root = settings.content_dir.resolve()
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return None
    return course_id(root / parts[0]) if parts and (root / parts[0] / "course.yaml").is_file() else None


def cmd_content_add(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files or folders (Markdown, text, HTML, PDF) into a course's passage store."""
    from tutor.retrieval import EmbeddingModelError, IngestLimits, StoreError, ingest_paths, open_store

    paths = [Path(p) for p in args.paths]
    course = args.course
    if course is None:
        found = {_course_of(p, settings) for p in paths}
        if len(found) != 1 or None in found:
            print("cannot tell the course from the path(s); give --course ID", file=sys.stderr)
            return 2
        course = found.pop()
    try:
        store = open_store(settings)
        report = ingest_paths(
            store, paths, course=course, skills=args.skill or None, progress=not args.quiet,
            limits=IngestLimits.from_settings(settings, max_bytes=int(args.max_mb * 1024 * 1024)),
        )
    except (StoreError, EmbeddingModelError) as exc:
        print(exc, file=sys.stderr)
        return 2
    for result in report.files:
        print(result)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_content_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per source file in the passage store: course, chunks, skills, styles."""
    from tutor.retrieval import StoreError, open_store

    try:
        sources = open_store(settings).list_sources(args.course)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not sources:
        print("the passage store is empty" + (f" for course {args.course}" if args.course else ""))
        return 0
    for s in sources:
        print(f"{s.course:<16} {s.source:<40} {s.chunks:>4} chunks  skills: {', '.join(s.skills) or '-'}  "
              f"styles: {', '.join(s.styles) or '-'}  ({s.origin})")
    print(f"{sum(s.chunks for s in sources)} chunks in {len(sources)} source(s)")
    return 0


def cmd_content_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove source files (or a whole course, or everything with --all) from the passage store."""
    from tutor.retrieval import StoreError, open_store

    if args.all == bool(args.course):
        print("give --course ID [SOURCE ...] or --all", file=sys.stderr)
        return 2
    try:
        store = open_store(settings)
        if args.all:
            print(f"removed {store.remove()} chunk(s)")
            return 0
        known = {s.source for s in store.list_sources(args.course)}
        missing = [s for s in args.sources if s not in known]
        for source in missing:
            print(f"not in course {args.course}: {source} (see `tutor content list --course {args.course}`)")
        removed = store.remove(args.course, args.sources or None)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"removed {removed} chunk(s) from course {args.course}")
    return 1 if missing else 0


def _course_dir(course: str, settings: Settings) -> Path | None:
    path = settings.content_dir / course
    if not (path / "course.yaml").is_file():
        print(f"no course {course!r}: {path / 'course.yaml'} is missing; give the id of a folder under "
              f"{settings.content_dir}", file=sys.stderr)
        return None
    return path


def cmd_content_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import item banks (GIFT, Moodle XML, QTI 2.1, Canvas QTI 1.2) into a course; all or nothing."""
    from tutor.course.interchange.importer import import_banks, read_course_file

    path = _course_dir(args.course, settings)
    if path is None:
        return 2
    course = read_course_file(path)
    if isinstance(course, str):
        print(course, file=sys.stderr)
        return 2
    report = import_banks([Path(f) for f in args.files], path, course, skill=args.skill)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def cmd_content_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a course's item bank as a QTI 2.1 package or Moodle XML."""
    from tutor.course.interchange.exporter import export_course
    from tutor.course.loader import load_course
    from tutor.course.problems import ContentError

    path = _course_dir(args.course, settings)
    if path is None:
        return 2
    try:
        course = load_course(path)
    except ContentError as exc:
        print(f"{path}: cannot export an invalid course; run `tutor content validate {path}`\n{exc}",
              file=sys.stderr)
        return 2
    data, notes = export_course(course, args.format)
    out = Path(args.out)
    try:
        out.write_bytes(data)
    except OSError as exc:
        print(f"{out}: cannot write: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {sum(len(v) for v in course.items.values()) - sum('left out' in n for n in notes)} item(s) "
          f"to {out} ({args.format})")
    for note in notes:
        print(f"  {note}")
    return 0


def cmd_content_coverage(args: argparse.Namespace, settings: Settings) -> int:
    """Per skill, what mastery learning needs and is missing (offline)."""
    from tutor.authoring.coverage import course_coverage, report_lines
    from tutor.course.loader import load_course
    from tutor.course.problems import ContentError

    path = _course_dir(args.course, settings)
    if path is None:
        return 2
    try:
        course = load_course(path)
    except ContentError as exc:
        print(f"{path}: the course does not validate; run `tutor content validate {path}`\n{exc}", file=sys.stderr)
        return 2
    coverage = course_coverage(course)
    for line in report_lines(course, coverage):
        print(line)
    return 0 if all(c.complete for c in coverage) else 1


def cmd_content_draft(args: argparse.Namespace, settings: Settings) -> int:
    """Draft items (and passages) for a skill with Claude, grounded in its sources; saved as a pending draft."""
    from tutor.authoring.drafting import DraftingError, draft_skill
    from tutor.course.loader import load_course
    from tutor.course.problems import ContentError

    if settings.offline:
        print("drafting needs Claude: set ANTHROPIC_API_KEY. Offline, `tutor content coverage --course "
              f"{args.course}` lists what each skill is missing.", file=sys.stderr)
        return 2
    path = _course_dir(args.course, settings)
    if path is None:
        return 2
    try:
        course = load_course(path)
    except ContentError as exc:
        print(f"{path}: the course does not validate; run `tutor content validate {path}`\n{exc}", file=sys.stderr)
        return 2
    if args.skill not in {s.id for s in course.skills}:
        print(f"no skill {args.skill!r} in {course.id}; use one of: {', '.join(s.id for s in course.skills)}",
              file=sys.stderr)
        return 2
    try:
        result = draft_skill(settings, course, path, args.skill, n_items=args.items, want_passages=args.passages)
    except DraftingError as exc:
        print(exc, file=sys.stderr)
        return 1
    for reason in result.rejected:
        print(f"  rejected {reason}")
    if result.draft is None:
        print("nothing usable was drafted")
        return 1
    d = result.draft
    print(f"draft {d.id}: {len(d.items)} item(s), {len(d.passages)} passage(s) for {d.skill}, pending approval "
          f"(`tutor content drafts show {d.id} --course {course.id}`)")
    return 0


def cmd_content_drafts(args: argparse.Namespace, settings: Settings) -> int:
    """List, show, approve or reject drafts."""
    from tutor.authoring import drafts

    path = _course_dir(args.course, settings)
    if path is None:
        return 2
    try:
        if args.action == "list":
            found = drafts.list_drafts(path, None if args.all else "pending")
            if not found:
                print(f"no {'' if args.all else 'pending '}drafts in {drafts.drafts_dir(path)}")
            for d in found:
                print(f"{d.id}  {d.status:<8} {d.origin:<6} {d.skill}: {len(d.items)} item(s), "
                      f"{len(d.passages)} passage(s)")
            return 0
        if not args.id:
            print(f"give the draft id: tutor content drafts {args.action} ID --course {args.course}", file=sys.stderr)
            return 2
        if args.action == "show":
            d = drafts.load(path, args.id)
            print(f"draft {d.id} ({d.status}, {d.origin}) for skill {d.skill}, created {d.created}")
            if d.note:
                print(f"note: {d.note}")
            if d.sources:
                print("grounded in: " + "; ".join(d.sources))
            for i, item in enumerate(d.items, 1):
                for problem in drafts.item_problems(item):
                    print(f"  item {i} cannot be approved yet: {problem}")
            print(drafts.editable_text(d))
            return 0
        if args.action == "approve":
            problems = drafts.approve(path, args.id)
            if problems:
                print(f"draft {args.id} not approved; nothing changed:")
                for problem in problems:
                    print(f"  {problem}")
                return 1
            print(f"approved {args.id}: added to {args.course} (run `tutor content load` to index new passages)")
            return 0
        drafts.reject(path, args.id)
        print(f"rejected {args.id}")
        return 0
    except drafts.DraftError as exc:
        print(exc, file=sys.stderr)
        return 2


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.chat import run_chat
    from tutor.session import LearnerIdError, Tutor, normalise_learner_id

    try:
        learner = normalise_learner_id(args.learner)
    except LearnerIdError as exc:
        print(exc, file=sys.stderr)
        return 2
    tutor = Tutor(settings)
    try:
        if args.course not in tutor.courses:
            from tutor.retrieval.ingest import course_id

            for folder, problem in tutor.broken_courses.items():
                if args.course in (folder.name, course_id(folder)):
                    raise problem  # this course is there but does not validate: say so, with the validate command
            print(f"no course {args.course!r}; available: {', '.join(sorted(tutor.courses))}", file=sys.stderr)
            return 2
        return run_chat(tutor, args.course, learner)
    finally:
        tutor.close()


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    """Fit BKT parameters per skill from the attempt log and report them beside the course's current ones."""
    from tutor.course.loader import load_course
    from tutor.course.problems import ContentError
    from tutor.mastery.calibrate import calibrate, report
    from tutor.records import Records

    path = settings.content_dir / args.course
    try:
        course = load_course(path)
    except ContentError as exc:
        print(f"{path}: cannot load the course; run `tutor content validate {path}`\n{exc}", file=sys.stderr)
        return 2
    sequences: dict[str, dict[str, list[bool]]] = {}
    for row in Records(settings.resolved_database_url).attempts(course.id):
        if not row.review:
            sequences.setdefault(row.skill_id, {}).setdefault(row.learner_id, []).append(row.correct)
    if not sequences:
        print(f"no attempts logged for course {course.id} in {settings.resolved_database_url}")
        return 1
    results = calibrate({skill: list(by_learner.values()) for skill, by_learner in sequences.items()},
                        forgets=args.forgets)
    print(report(results, {skill.id: course.skill_bkt(skill.id) for skill in course.skills}))
    if args.json:
        payload = {skill: {"params": r.params.model_dump(), "learners": r.learners, "answers": r.answers,
                           "trusted": r.trusted, "at_bounds": list(r.at_bounds)} for skill, r in results.items()}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tutor", description="Mastery Tutor: learn a skill until you master it.")
    commands = parser.add_subparsers(dest="command", required=True)

    content = commands.add_parser("content", help="validate and manage course content")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    validate = content_commands.add_parser("validate", help="check course folders and list every problem")
    validate.add_argument("paths", nargs="*", help="course folders (default: every course under the content dir)")
    validate.set_defaults(func=cmd_validate)
    new = content_commands.add_parser("new", help="create a new course folder that validates, with comments")
    new.add_argument("id", help="the course id: lowercase letters, digits, - and _")
    new.add_argument("--title", help="the course title (default: from the id)")
    new.set_defaults(func=cmd_content_new)
    load = content_commands.add_parser("load", help="validate every course and load its sources into the store")
    load.set_defaults(func=cmd_load)
    add = content_commands.add_parser("add", help="add Markdown, text, HTML or PDF material to a course's passages")
    add.add_argument("paths", nargs="+", help="files or folders (folders are searched recursively)")
    add.add_argument("--course", help="course id (default: the course folder the paths are in)")
    add.add_argument("--skill", action="append", help="skill id for files that name none (repeatable)")
    add.add_argument("--max-mb", type=float, default=5.0, help="skip files larger than this (default 5)")
    add.add_argument("--quiet", action="store_true", help="no progress bar")
    add.set_defaults(func=cmd_content_add)
    listing = content_commands.add_parser("list", help="list the source files in the passage store")
    listing.add_argument("--course", help="only this course")
    listing.set_defaults(func=cmd_content_list)
    remove = content_commands.add_parser("remove", help="remove source files or a course from the passage store")
    remove.add_argument("sources", nargs="*", help="source names shown by `content list` (default: the whole course)")
    remove.add_argument("--course", help="course id")
    remove.add_argument("--all", action="store_true", help="empty the whole passage store")
    remove.set_defaults(func=cmd_content_remove)

    imp = content_commands.add_parser("import", help="import item banks: GIFT, Moodle XML, QTI 2.1, Canvas QTI 1.2")
    imp.add_argument("files", nargs="+", help="bank files (.gift/.txt, .xml, or a QTI/Canvas .zip)")
    imp.add_argument("--course", required=True, help="course id (a folder under the content dir)")
    imp.add_argument("--skill", help="put every question under this skill (default: from categories/sections)")
    imp.set_defaults(func=cmd_content_import)
    exp = content_commands.add_parser("export", help="export the item bank as QTI 2.1 (zip) or Moodle XML")
    exp.add_argument("out", help="file to write")
    exp.add_argument("--course", required=True, help="course id")
    exp.add_argument("--format", required=True, choices=["qti", "moodle-xml"])
    exp.set_defaults(func=cmd_content_export)

    cov = content_commands.add_parser("coverage", help="per skill, what mastery learning needs and is missing")
    cov.add_argument("--course", required=True, help="course id")
    cov.set_defaults(func=cmd_content_coverage)

    drf = content_commands.add_parser("draft", help="draft items and passages for a skill with Claude (needs a key)")
    drf.add_argument("--course", required=True, help="course id")
    drf.add_argument("--skill", required=True, help="skill id")
    drf.add_argument("--items", type=int, default=4, help="how many items to draft (default 4)")
    drf.add_argument("--passages", action="store_true", help="also draft passages in styles the skill lacks")
    drf.set_defaults(func=cmd_content_draft)
    drs = content_commands.add_parser("drafts", help="list, show, approve or reject drafts")
    drs.add_argument("action", choices=["list", "show", "approve", "reject"])
    drs.add_argument("id", nargs="?", help="draft id (for show, approve, reject)")
    drs.add_argument("--course", required=True, help="course id")
    drs.add_argument("--all", action="store_true", help="list approved and rejected drafts too")
    drs.set_defaults(func=cmd_content_drafts)

    chat = commands.add_parser("chat", help="learn in the terminal (reads one message per line when piped)")
    chat.add_argument("--course", required=True, help="course id, e.g. fractions")
    chat.add_argument("--learner", required=True, help="your learner name; the same name resumes your session")
    chat.set_defaults(func=cmd_chat)

    cal = commands.add_parser("calibrate", help="fit BKT parameters per skill from the attempt log")
    cal.add_argument("--course", required=True, help="course id (a folder under the content dir)")
    cal.add_argument("--forgets", action="store_true", help="also fit a forgetting rate")
    cal.add_argument("--json", help="also write the fitted parameters to this JSON file")
    cal.set_defaults(func=cmd_calibrate)

    from tutor.auth import cli as users_cli

    users_cli.register(commands)

    from tutor import org_cli

    org_cli.register(commands)

    from tutor.records import export as records_export

    records_export.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SetupError as exc:
        print(f"tutor: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except setup_errors() as exc:  # bad settings, stores, databases, courses: one line, not a traceback
        print(f"tutor {args.command}: {setup_message(exc, settings)}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "users":
        from tutor.auth.cli import USER_ERRORS

        try:
            code: int = args.func(args, settings)
        except USER_ERRORS as exc:
            print(f"tutor users {args.users_command}: {exc}", file=sys.stderr)
            return 2
        return code
    if args.command == "groups":
        from tutor.org_cli import ORG_ERRORS

        try:
            code = args.func(args, settings)
        except ORG_ERRORS as exc:
            print(f"tutor groups {args.groups_command}: {exc}", file=sys.stderr)
            return 2
        return code
    code = args.func(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
