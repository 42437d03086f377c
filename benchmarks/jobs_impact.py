"""Learner turn latency with and without a heavy job running through the job queue.

    python -m benchmarks.jobs_impact [--turns 200] [--job "evals.retrieval_eval"] [--json OUT]

An offline tutor (real Chroma store and SQLite records in a temporary folder) answers simulated learners' turns
while (1) nothing else runs, (2) a heavy job runs through `tutor.jobs.JobQueue` (a subprocess at lower CPU
priority, as the app runs it), and (3) for reference, the same job run at normal priority (as the Evaluate page
did before the queue). The job is resubmitted whenever it ends, so it runs throughout each measured phase.
Prints turn p50/p95 per phase and the ratio of p95 with a queued job to p95 alone (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.support.learner import answer, course_dir
from tutor.course.loader import load_course
from tutor.jobs import JobQueue
from tutor.retrieval import ingest_course, open_store
from tutor.session import Tutor
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def turns(tutor: Tutor, count: int, prefix: str) -> list[float]:
    """Milliseconds per learner turn over `count` turns (new learners as earlier ones finish)."""
    times: list[float] = []
    learner = 0
    who = f"{prefix}{learner}"
    list(tutor.start(who, "fractions"))
    for turn in range(count):
        if tutor.view(who, "fractions").complete:
            learner += 1
            who = f"{prefix}{learner}"
            list(tutor.start(who, "fractions"))
        text = answer(tutor, who, "fractions", right=turn % 4 != 3)
        start = time.perf_counter()
        list(tutor.send(who, "fractions", text))
        times.append((time.perf_counter() - start) * 1000)
    return times


def with_job(tutor: Tutor, queue: JobQueue, command: list[str], count: int, prefix: str) -> tuple[list[float], int]:
    """Turns measured while the job runs (resubmitted when it ends); also how many job runs were started."""
    started = 1
    job = queue.submit("bench", "bench", "heavy job", command)
    while queue.get(job.id).status == "queued":  # type: ignore[union-attr]
        time.sleep(0.05)
    deadline = time.monotonic() + 60  # let the job get past its imports and into its heavy part (first output)
    while time.monotonic() < deadline and queue.get(job.id).message in ("started", ""):  # type: ignore[union-attr]
        time.sleep(0.2)
    time.sleep(2.0)
    times: list[float] = []
    while len(times) < count:
        if not queue.get(job.id).active:  # type: ignore[union-attr]
            job = queue.submit("bench", "bench", "heavy job", command)
            started += 1
        times += turns(tutor, min(10, count - len(times)), f"{prefix}{len(times)}-")
    queue.cancel(job.id)
    queue.wait(job.id, timeout=60)
    return times, started


def summary(times: list[float]) -> dict[str, float]:
    return {"turns": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--job", default="evals.retrieval_eval", help="module run as the heavy job")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = Settings(_env_file=None, data_dir=data / "tutor", anthropic_api_key=None)
        store = open_store(settings)
        ingest_course(store, course_dir("fractions"))
        tutor = Tutor(settings, store=store, courses=[load_course(course_dir("fractions"))])
        command = [sys.executable, "-m", args.job, "--json", "{folder}/out.json"]
        url = settings.resolved_database_url
        turns(tutor, 10, "warm")  # warm up: model and index loads
        results: dict[str, dict[str, float]] = {}
        results["alone"] = summary(turns(tutor, args.turns, "alone"))
        print(f"alone: {results['alone']}", flush=True)
        for name, niceness in (("queued job (nice 10)", 10), ("job at normal priority", 0)):
            queue = JobQueue(url, data / f"jobs-{niceness}", niceness=niceness, cwd=ROOT)
            try:
                times, runs = with_job(tutor, queue, command, args.turns, f"n{niceness}-")
            finally:
                queue.close()
            results[name] = {**summary(times), "job_runs": runs}
            print(f"{name}: {results[name]}", flush=True)
        tutor.close()

    alone = results["alone"]["p95_ms"]
    ratio = results["queued job (nice 10)"]["p95_ms"] / alone
    reference = results["job at normal priority"]["p95_ms"] / alone
    print(f"\nlearner turn latency, {args.turns} turns per phase, heavy job: python -m {args.job}")
    print(f"{'phase':<26}{'p50 ms':>10}{'p95 ms':>10}")
    for name, row in results.items():
        print(f"{name:<26}{row['p50_ms']:>10.1f}{row['p95_ms']:>10.1f}")
    print(f"p95 ratio, queued job / alone: {ratio:.2f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"p95 ratio, job at normal priority / alone: {reference:.2f}x (for reference)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"job": args.job, "phases": results, "ratio_p95": round(ratio, 2),
                                         "ratio_p95_normal_priority": round(reference, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
