"""The tutor's own overhead per learner turn, excluding LLM time.

    python -m benchmarks.turn_overhead [--turns 200] [--json OUT]

A Claude-configured tutor talks to the local fake Messages API server (tests/fakes), which answers at once, so
what is measured is the tutor: the graph step, checkpoint writes, retrieval, the gate and the database writes.
Time inside provider calls is measured separately and subtracted. Each component is timed by wrapping it
(the store, the records repository, the checkpointer, the gate) in this process only. Prints p50/p95 per turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tests.support.learner import answer, course_dir
from tutor.course.loader import load_course
from tutor.graph import nodes
from tutor.llm import build_provider
from tutor.retrieval import ingest_course, open_store
from tutor.session import Tutor
from tutor.settings import Settings

TIMES: dict[str, float] = defaultdict(float)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start

    return wrapper


class Timed:
    """Wraps every public method of an object under one timing bucket."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner, self._name = inner, name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        return timed(self._name, value) if callable(value) and not attr.startswith("_") else value


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, FakeAnthropicServer(
        default=Reply.text_reply("Here is the idea, from the course [1].")
    ) as server:
        data = Path(tmp)
        course = load_course(course_dir("fractions"))
        store = open_store(Settings(data_dir=data / "store"))
        ingest_course(store, course_dir("fractions"))
        settings = Settings(data_dir=data / "tutor", anthropic_api_key="bench", anthropic_base_url=server.url,
                            anthropic_max_retries=0)

        def provider_factory(on_fallback: Callable[[str, Exception], None]) -> Any:
            return Timed(build_provider(settings, on_fallback=on_fallback), "llm")

        tutor = Tutor(settings, store=Timed(store, "retrieval"), provider_factory=provider_factory,
                      courses=[course])
        tutor.records = Timed(tutor.records, "database")  # type: ignore[assignment]
        saver = tutor.checkpointer
        saver.put = timed("checkpoint", saver.put)  # type: ignore[method-assign]
        saver.put_writes = timed("checkpoint", saver.put_writes)  # type: ignore[method-assign]
        nodes.gate.decide = timed("gate", nodes.gate.decide)  # type: ignore[method-assign]

        list(tutor.start("bench", "fractions"))  # warm up: first explanation, model and index loads
        rows: list[dict[str, float]] = []
        learner = 0
        for turn in range(args.turns):
            if tutor.view(f"bench{learner}" if learner else "bench", "fractions").complete:
                learner += 1
            who = f"bench{learner}" if learner else "bench"
            if learner and turn and not tutor.view(who, "fractions").started:
                list(tutor.start(who, "fractions"))
            text = answer(tutor, who, "fractions", right=turn % 4 != 3)  # some wrong answers: remediation too
            TIMES.clear()
            start = time.perf_counter()
            list(tutor.send(who, "fractions", text))
            total = time.perf_counter() - start
            row = {k: v * 1000 for k, v in TIMES.items()}
            row["overhead"] = (total - TIMES["llm"]) * 1000
            row["graph"] = row["overhead"] - sum(row.get(k, 0.0) for k in ("retrieval", "database", "checkpoint",
                                                                             "gate"))
            rows.append(row)
        tutor.close()

    parts = ["overhead", "graph", "checkpoint", "retrieval", "gate", "database", "llm"]
    summary = {
        part: {"p50_ms": round(statistics.median([r.get(part, 0.0) for r in rows]), 2),
               "p95_ms": round(percentile([r.get(part, 0.0) for r in rows], 0.95), 2)}
        for part in parts
    }
    print(f"tutor overhead per turn over {len(rows)} turns (LLM = local fake server, answering at once)")
    print(f"{'part':<12}{'p50 ms':>10}{'p95 ms':>10}")
    for part in parts:
        label = part if part != "llm" else "llm (excl.)"
        print(f"{label:<12}{summary[part]['p50_ms']:>10.2f}{summary[part]['p95_ms']:>10.2f}")
    target = summary["overhead"]["p95_ms"] <= 25
    print(f"target p95 overhead <= 25 ms (quiet machine): {'met' if target else 'NOT met'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"turns": len(rows), "parts": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
