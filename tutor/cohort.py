"""Reading a cohort out of the ledger: the learners of a group (or every learner of a course), their attempts,
gate decisions and skill progress, as the plain facts `tutor.dashboard` computes on.

Used by the instructor page, the learner's completion record and `tutor report`, so all three show the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tutor.auth.store import Accounts
from tutor.course.loader import discover_courses, load_course
from tutor.course.models import Course
from tutor.course.problems import ContentError
from tutor.course.templates import instantiate
from tutor.course.version import course_version
from tutor.dashboard import AttemptFact, DecisionFact, GroupReport, group_report, mastery_evidence
from tutor.graph import progress as prog
from tutor.groups import Group, GroupError, Groups
from tutor.mastery.select import SkillProgress
from tutor.records import AttemptRow, DecisionRow, QuestionRow, Records, recorded_attempt
from tutor.reports import dumps, evidence_json, grid_csv, grid_rows, report_json
from tutor.retrieval.ingest import course_id as course_id_of
from tutor.settings import Settings


class CohortError(ValueError):
    """A report that cannot be made (unknown course or group); the message says what to do."""


@dataclass(frozen=True)
class LearnerRecord:
    """One learner's ledger in one course, as facts."""

    learner_id: str
    name: str
    attempts: tuple[AttemptFact, ...]
    decisions: tuple[DecisionFact, ...]
    progress: dict[str, SkillProgress]


def _utc(value: datetime) -> datetime:
    """Ledger times are UTC; SQLite hands them back without a zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _prompt(course: Course, question: QuestionRow) -> str:
    try:
        return instantiate(course.item(question.item_id), question.seed).prompt
    except KeyError:
        return f"(item {question.item_id}, no longer in the course)"


def attempt_fact(course: Course, attempt: AttemptRow, question: QuestionRow) -> AttemptFact:
    return AttemptFact(
        learner_id=attempt.learner_id, skill_id=attempt.skill_id, question_id=attempt.question_id,
        item_id=attempt.item_id, prompt=_prompt(course, question), answer=attempt.answer,
        correct=None if attempt.review_status == "pending" else attempt.correct,
        grader=attempt.grader, asked_at=_utc(question.issued_at), answered_at=_utc(attempt.created_at),
        mode=question.mode,
    )


def decision_fact(row: DecisionRow) -> DecisionFact:
    return DecisionFact(
        learner_id=row.learner_id, skill_id=row.skill_id, status=row.status, p_known=row.p_known,
        at=_utc(row.created_at), evidence=tuple(row.evidence or ()), criterion=dict(row.criterion or {}),
        course_version=row.course_version or "",
    )


def learner_record(records: Records, course: Course, learner_id: str, name: str) -> LearnerRecord:
    """Everything the ledger holds for one learner in one course."""
    pairs = records.attempts_with_questions(course.id, learner_id)  # the evidence, read once
    progress = prog.from_ledger(course, [recorded_attempt(a, q) for a, q in pairs])
    return LearnerRecord(
        learner_id=learner_id,
        name=name,
        attempts=tuple(attempt_fact(course, a, q) for a, q in pairs),
        decisions=tuple(decision_fact(d) for d in records.decisions(course.id, learner_id)),
        progress={skill: prog.to_progress(entry) for skill, entry in progress.items()},
    )


def members(accounts: Accounts, group: Group) -> list[tuple[str, str]]:
    """(learner key, display name) of a group's learners, in the group's order."""
    found: list[tuple[str, str]] = []
    for account_id in group.learners:
        account = accounts.get(account_id)
        if account is not None:
            found.append((account.learner_key, account.display_name))
    return found


def course_learners(records: Records, accounts: Accounts, course_id: str) -> list[tuple[str, str]]:
    """(learner key, display name) of everyone with questions in the course, in order of first question."""
    names = {a.learner_key: a.display_name for a in accounts.all()}
    seen: dict[str, str] = {}
    for question in records.questions(course_id):
        seen.setdefault(question.learner_id, names.get(question.learner_id, question.learner_id))
    return list(seen.items())


def report_for(course: Course, cohort: Sequence[LearnerRecord], *, now: datetime, idle_days: int) -> GroupReport:
    return group_report(
        course, [r.learner_id for r in cohort],
        {r.learner_id: r.attempts for r in cohort},
        {r.learner_id: r.decisions for r in cohort},
        {r.learner_id: r.progress for r in cohort},
        now=now, idle_days=idle_days,
    )


def _course(settings: Settings, course_id: str) -> tuple[Course, str]:
    for folder in discover_courses(settings.content_dir):
        if course_id_of(folder) == course_id:  # the id in course.yaml, which need not be the folder's name
            try:
                return load_course(folder), course_version(folder)
            except ContentError as exc:
                raise CohortError(f"{folder}: the course does not load; run `tutor content validate {folder}` "
                                  f"({exc})") from None
    raise CohortError(f"no course {course_id!r} under {settings.content_dir}")


def course_report(settings: Settings, course_id: str, *, group: str | None, fmt: str, now: datetime) -> str:
    """`tutor report`: the group's (or the whole course's) grid and figures as CSV or JSON."""
    course, version = _course(settings, course_id)
    records = Records(settings.resolved_database_url)
    accounts = Accounts(settings.resolved_database_url)
    try:
        if group is not None:
            try:
                chosen = Groups(records.engine).get(group)
            except GroupError as exc:
                raise CohortError(str(exc)) from None
            people = members(accounts, chosen)
        else:
            people = course_learners(records, accounts, course.id)
        cohort = [learner_record(records, course, lid, name) for lid, name in people]
    finally:
        records.close()
        accounts.close()
    report = report_for(course, cohort, now=now, idle_days=settings.stuck_idle_days)
    names = {r.learner_id: r.name for r in cohort}
    if fmt == "csv":
        return grid_csv(grid_rows(report, course, names))
    payload = report_json(report, course, names, group=group, course_version=version, now=now)
    payload["evidence"] = {r.learner_id: _evidence(r) for r in cohort}
    return dumps(payload) + "\n"


def _evidence(record: LearnerRecord) -> list[dict[str, object]]:
    return evidence_json(mastery_evidence(record.attempts, record.decisions))
