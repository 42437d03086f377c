"""`tutor records export`: the ledger as JSON lines or CSV, for audits, evaluators and data portability.

One row per record, oldest first within each kind: every issued question, every attempt (question id, item,
parameters, answer, correct, grader, time), every explanation shown and every gate decision. The `record` column
says which.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from tutor.records.store import Records
from tutor.settings import Settings

COLUMNS = [
    "record", "question_id", "learner_id", "course_id", "skill_id", "item_id", "form", "kind", "seed", "params",
    "mode", "return_to", "answer", "correct", "grader", "misconception", "hints_used", "purpose", "style",
    "passages", "provider", "status", "p_known", "reasons", "misconceptions", "time",
]


def _time(value: datetime) -> str:
    return value.isoformat()


def ledger_rows(records: Records, course_id: str | None = None, learner_id: str | None = None
                ) -> Iterator[dict[str, Any]]:
    for q in records.questions(course_id, learner_id):
        yield {"record": "question", "question_id": q.question_id, "learner_id": q.learner_id,
               "course_id": q.course_id, "skill_id": q.skill_id, "item_id": q.item_id, "form": q.form,
               "kind": q.kind, "seed": q.seed, "params": q.params, "mode": q.mode, "return_to": q.return_to,
               "time": _time(q.issued_at)}
    for a in records.attempts(course_id, learner_id):
        yield {"record": "attempt", "question_id": a.question_id, "learner_id": a.learner_id,
               "course_id": a.course_id, "skill_id": a.skill_id, "item_id": a.item_id, "form": a.form,
               "kind": a.kind, "params": a.params, "answer": a.answer, "correct": a.correct, "grader": a.grader,
               "misconception": a.misconception, "hints_used": a.hints_used, "time": _time(a.created_at)}
    for e in records.explanations(course_id, learner_id):
        yield {"record": "explanation", "learner_id": e.learner_id, "course_id": e.course_id,
               "skill_id": e.skill_id, "purpose": e.purpose, "style": e.style, "passages": e.passages,
               "provider": e.provider, "time": _time(e.created_at)}
    for d in records.decisions(course_id, learner_id):
        yield {"record": "decision", "question_id": d.key.removesuffix(":decision"), "learner_id": d.learner_id,
               "course_id": d.course_id, "skill_id": d.skill_id, "status": d.status, "p_known": d.p_known,
               "reasons": d.reasons, "misconceptions": d.misconceptions, "time": _time(d.created_at)}


def write(rows: Iterator[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write rows as `jsonl` or `csv` (lists and mappings as JSON text in a cell); returns how many."""
    n = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        return n
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                         for k, v in row.items()})
        n += 1
    return n


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    records = Records(settings.resolved_database_url)
    try:
        rows = ledger_rows(records, args.course, args.learner)
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                n = write(rows, args.format, out)
            print(f"wrote {n} records to {args.out}", file=sys.stderr)
        else:
            write(rows, args.format, sys.stdout)
    finally:
        records.close()
    return 0


def register(commands: Any) -> None:
    """`tutor records export` on the CLI's subcommands."""
    rec = commands.add_parser("records", help="the learner ledger: export what was asked, answered and decided")
    sub = rec.add_subparsers(dest="records_command", required=True)
    exp = sub.add_parser("export", help="issued questions, attempts, explanations shown and gate decisions")
    exp.add_argument("--course", help="only this course id")
    exp.add_argument("--learner", help="only this learner id")
    exp.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    exp.add_argument("--out", help="write to this file instead of standard output")
    exp.set_defaults(func=cmd_export)
