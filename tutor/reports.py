"""What the organisation takes away: a group report as CSV or JSON, and a learner's printable completion record.

Renders the values `tutor.dashboard` computes; the instructor page, `tutor report` and the learner's download
all use these functions, so the page and the files always agree.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tutor.course.models import Course
from tutor.dashboard import STATE_LABELS, Evidence, GroupReport

GRID_COLUMNS = ("learner_id", "learner", "skill_id", "skill", "state", "p_known", "items", "minutes", "mastered_at")


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def grid_rows(report: GroupReport, course: Course, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per learner and skill, in course order."""
    rows: list[dict[str, Any]] = []
    for learner in report.learners:
        for skill in course.skills:
            cell = report.grid[(learner, skill.id)]
            rows.append({
                "learner_id": learner, "learner": names.get(learner, learner), "skill_id": skill.id,
                "skill": skill.title, "state": cell.state, "p_known": round(cell.p_known, 4), "items": cell.items,
                "minutes": cell.minutes, "mastered_at": _when(cell.mastered_at),
            })
    return rows


def report_json(report: GroupReport, course: Course, names: Mapping[str, str], *, group: str | None,
                course_version: str, now: datetime) -> dict[str, Any]:
    """The whole report as one JSON-ready value (the same figures as the page)."""
    return {
        "course": {"id": course.id, "title": course.title, "version": course_version},
        "group": group,
        "generated_at": _when(now),
        "learners": [{"id": lid, "name": names.get(lid, lid), "completed_at": _when(report.completed[lid])}
                     for lid in report.learners],
        "completion_share": round(report.completion_share, 4),
        "grid": grid_rows(report, course, names),
        "skills": [
            {"id": f.skill_id, "title": f.title, "mastered": f.mastered, "learners": f.learners,
             "items_to_mastery": list(f.items_to_mastery), "minutes_to_mastery": list(f.minutes_to_mastery),
             "median_items": f.median_items, "median_minutes": f.median_minutes}
            for f in report.figures
        ],
        "slowest_skills": [f.skill_id for f in report.slowest()],
        "stuck": [{"learner_id": s.learner_id, "learner": names.get(s.learner_id, s.learner_id),
                   "skill_id": s.skill_id, "reason": s.reason} for s in report.stuck],
    }


def grid_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GRID_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def evidence_json(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    """Each mastery with the criterion, the course version, and the answers the gate read."""
    return [
        {
            "skill_id": e.decision.skill_id,
            "mastered_at": _when(e.decision.at),
            "p_known": round(e.decision.p_known, 4),
            "criterion": dict(e.decision.criterion),
            "course_version": e.decision.course_version,
            "revoked_at": _when(e.revoked_at) or None,
            "attempts": [
                {"question_id": a.question_id, "item_id": a.item_id, "question": a.prompt, "answer": a.answer,
                 "correct": a.correct, "graded_by": a.grader, "answered_at": _when(a.answered_at)}
                for a in e.attempts
            ],
        }
        for e in evidence
    ]


def criterion_words(criterion: Mapping[str, Any]) -> str:
    """The mastery criterion in force, in words (as recorded with a gate decision)."""
    if not criterion:
        return "criterion not recorded"
    return (f"mastery estimate at least {float(criterion['threshold']):.0%}, at least {criterion['min_items']} "
            f"different questions right, at least {float(criterion['bar']):.0%} of the last {criterion['window']} "
            "answers right, and the last answer right")


def completion_record_html(course: Course, learner_name: str, evidence: Sequence[Evidence], *,
                           course_version: str, now: datetime) -> str:
    """A printable page: each skill with the date it was mastered, the criterion it met and its evidence."""
    latest = {e.decision.skill_id: e for e in evidence}  # the most recent mastery of each skill
    rows = []
    for skill in course.skills:
        e = latest.get(skill.id)
        rule = criterion_words(course.criterion(skill.id).model_dump())
        if e is None:
            status, when, answers = "not mastered", "", ""
        elif e.revoked_at is not None:
            status, when, answers = "revoked", f"{e.decision.at:%Y-%m-%d} (revoked {e.revoked_at:%Y-%m-%d})", ""
        else:
            right = sum(a.correct is True for a in e.attempts)
            status, when = "mastered", f"{e.decision.at:%Y-%m-%d}"
            answers = f"{right} of {len(e.attempts)} answers right"
        rows.append(f"<tr><td>{html.escape(skill.title)}</td><td>{status}</td><td>{when}</td>"
                    f"<td>{html.escape(answers)}</td><td class='rule'>{html.escape(rule)}</td></tr>")
    done = all(k in latest and latest[k].revoked_at is None for k in (s.id for s in course.skills))
    title = f"{'Completion' if done else 'Progress'} record: {course.title}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #111; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border: 1px solid #999; padding: .35rem .5rem;
text-align: left; vertical-align: top; }} .rule {{ font-size: .85em; color: #333; }}
@media print {{ body {{ margin: 1cm; }} }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p><strong>Learner:</strong> {html.escape(learner_name)}<br>
<strong>Course version:</strong> {html.escape(course_version)}<br>
<strong>Status:</strong> {"every skill mastered" if done else "not every skill mastered yet"}<br>
<strong>Issued:</strong> {now:%Y-%m-%d %H:%M} UTC</p>
<table><thead><tr><th>Skill</th><th>State</th><th>Mastered on</th><th>Evidence</th><th>Criterion</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p>Mastery is decided by a fixed rule over graded answers, never by a language model. Each mastery above lists
the answers it rests on in the tutor's ledger.</p>
</body></html>
"""


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


__all__ = ["STATE_LABELS", "completion_record_html", "criterion_words", "dumps", "evidence_json", "grid_csv",
           "grid_rows", "report_json"]
