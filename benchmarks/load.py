"""Many learners answering at once through the Tutor API, in several processes on one ledger (offline provider).

    python -m benchmarks.load --learners 50 --processes 4 --backend sqlite|postgres|both [--turns 6] [--json OUT]

Prints turns/s (over the answering phase, from the first answer sent to the last reply, and over the whole run
including process start-up), p50/p95 turn time, and checks through the ledger export (`tutor records export`) that every
acknowledged answer is recorded exactly once under its question: 0 lost, 0 duplicated. PostgreSQL runs on a
throwaway local server (Debian's binaries, as in the tests). `both` runs SQLite, then PostgreSQL, then each again,
in this process, and prints PostgreSQL's turns/s over SQLite's (the median of the two runs each).

A turn is what a page does: read the session (`Tutor.view`), then send the answer to the question shown. Each
simulated learner works its answer out from the ledger's row for that question (item and seed), standing in for
a person reading the page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.learner import answer_to, course_dir
from tutor.course.loader import load_course
from tutor.records import Records
from tutor.records.export import ledger_rows
from tutor.retrieval import ingest_course, open_store
from tutor.session import Tutor
from tutor.settings import Settings

COURSE = "mini"


def worker(data: str, store: str, url: str, learners: list[str], turns: int, out: Any) -> None:
    tutor = Tutor(Settings(data_dir=Path(data), database_url=url or None),
                  store=open_store(Settings(data_dir=Path(store))), courses=[load_course(course_dir("mini-course"))])
    times: list[float] = []
    acked: list[tuple[str, str]] = []
    for learner in learners:
        list(tutor.start(learner, COURSE))
    first = time.time()  # wall clock: comparable across the processes
    for turn in range(turns):
        for learner in learners:
            pending = tutor.view(learner, COURSE).pending
            if pending is None:
                continue
            text = answer_to(tutor, COURSE, pending["question_id"], right=(turn % 4) != 3)
            start = time.perf_counter()
            events = list(tutor.send(learner, COURSE, text, question_id=pending["question_id"]))
            times.append(time.perf_counter() - start)
            if any((e.get("message") or {}).get("question_id") == pending["question_id"] for e in events):
                acked.append((pending["question_id"], text))
    last = time.time()
    tutor.close()
    out.put({"times": times, "acked": acked, "first": first, "last": last})


@contextlib.contextmanager
def backend_url(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield ""
        return
    from tests.support.postgres import fresh_database, postgres_server

    with postgres_server() as server:
        yield fresh_database(server)


def run_once(backend: str, learners: int, processes: int, turns: int) -> dict[str, Any]:
    """One run on a fresh ledger (and, for PostgreSQL, a fresh server): its figures."""
    with tempfile.TemporaryDirectory() as tmp, backend_url(backend) as url:
        store = Path(tmp) / "store"
        ingest_course(open_store(Settings(data_dir=store)), course_dir("mini-course"))
        data = Path(tmp) / "data"
        Records(Settings(data_dir=data, database_url=url or None).resolved_database_url).close()
        names = [f"load{i}" for i in range(learners)]
        queue: Any = mp.get_context("spawn").Queue()
        procs = [mp.get_context("spawn").Process(target=worker, args=(str(data), str(store), url,
                                                                      names[i::processes], turns, queue))
                 for i in range(processes)]
        started = time.perf_counter()
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        elapsed = time.perf_counter() - started
        for p in procs:
            p.join()
        records = Records(Settings(data_dir=data, database_url=url or None).resolved_database_url)
        attempts = [r for r in ledger_rows(records, COURSE) if r["record"] == "attempt"]
        records.close()
    times = sorted(t for r in results for t in r["times"])
    acked = [tuple(a) for r in results for a in r["acked"]]
    recorded: dict[str, list[str]] = {}
    for row in attempts:
        recorded.setdefault(row["question_id"], []).append(row["answer"])
    lost = sum(1 for q, text in acked if recorded.get(q) != [text])
    duplicated = sum(len(v) - 1 for v in recorded.values())
    answering = max(r["last"] for r in results) - min(r["first"] for r in results)
    return {
        "backend": backend, "learners": learners, "processes": processes, "turns": len(times),
        "turns_per_s": round(len(times) / answering, 1),
        "turns_per_s_incl_startup": round(len(times) / elapsed, 1),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000, 1),
        "acknowledged": len(acked), "lost": lost, "duplicated": duplicated, "wall_s": round(elapsed, 1),
    }


def describe(f: dict[str, Any]) -> str:
    return (f"{f['backend']}: {f['learners']} learners x {f['processes']} processes: {f['turns']} turns, "
            f"{f['turns_per_s']} turns/s while answering ({f['turns_per_s_incl_startup']} incl. start-up, "
            f"{f['wall_s']} s), p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms; acknowledged {f['acknowledged']}, "
            f"lost {f['lost']}, duplicated {f['duplicated']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--turns", type=int, default=6, help="answers per learner")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    order = ["sqlite", "postgres", "sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = []
    for backend in order:
        runs.append(run_once(backend, args.learners, args.processes, args.turns))
        print(describe(runs[-1]), flush=True)
    summary: dict[str, Any] = {"runs": runs}
    if args.backend == "both":
        rate = {b: statistics.median(r["turns_per_s"] for r in runs if r["backend"] == b)
                for b in ("sqlite", "postgres")}
        summary["postgres_over_sqlite"] = round(rate["postgres"] / rate["sqlite"], 2)
        print(f"turns/s while answering, median of 2 runs each: sqlite {rate['sqlite']:.1f}, postgres "
              f"{rate['postgres']:.1f}; postgres / sqlite {summary['postgres_over_sqlite']:.2f}x "
              f"(target: at least 1.00x)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if all(r["lost"] == 0 and r["duplicated"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
