"""Running the evals from the Evaluate page: each is `python -m <module> ... --json OUT` in a subprocess whose
output lines are streamed to the page; the JSON (and any PNG plot written beside it) is then shown."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EvalSpec:
    """One eval the page can run."""

    name: str
    module: str
    title: str
    description: str


MASTERY = EvalSpec(
    "mastery_bench",
    "evals.mastery_bench",
    "Mastery benchmark",
    "Simulated learners with a hidden knowledge state answer the same items; the tutor's gate is compared with "
    "classic stopping rules (n in a row, 80% of the last 10, BKT alone): items to mastery, false mastery, "
    "over-practice and unmastered learners, overall and per learner profile, plus how well BKT parameters are "
    "recovered from simulated data.",
)
RETRIEVAL = EvalSpec(
    "retrieval_eval",
    "evals.retrieval_eval",
    "Retrieval eval",
    "Labelled learner questions are searched in a fresh copy of each course's passages; recall@1, recall@5 and "
    "MRR per search mode (dense, BM25, hybrid, hybrid filtered to the skill), with latency.",
)

TUTOR = EvalSpec(
    "tutor_eval",
    "evals.tutor_eval",
    "Tutor eval",
    "Simulated learners (quick, typical, struggling, lucky guessers, careless, missing a prerequisite, learning "
    "from a second kind of explanation) chat with the whole tutor. Per configuration: items and turns to "
    "mastery, false mastery (declared while the learner did not know) with a 95% interval, courses completed, "
    "re-teaching effectiveness, step-backs, answers given away before the first attempt, latency and cost; "
    "configurations run on the same learners, with each difference's bootstrap interval.",
)


class EvalFailed(RuntimeError):
    """The eval process ended with a non-zero exit code."""

    def __init__(self, code: int, tail: Sequence[str]) -> None:
        self.code = code
        self.tail = list(tail)
        super().__init__(f"exit code {code}")


def available(spec: EvalSpec) -> bool:
    """Whether the eval's module can be found (it may not be installed in this checkout)."""
    try:
        return importlib.util.find_spec(spec.module) is not None
    except ModuleNotFoundError:
        return False


def output_path(data_dir: Path, spec: EvalSpec) -> Path:
    return data_dir / "evals" / f"{spec.name}.json"


def command(spec: EvalSpec, out: Path, args: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-u", "-m", spec.module, *args, "--json", str(out)]


def run_lines(cmd: Sequence[str], cwd: Path = ROOT) -> Iterator[str]:
    """Run `cmd`, yielding its output lines (stdout and stderr; progress-bar redraws become lines).

    Raises EvalFailed on a non-zero exit. The process is killed if the caller stops reading early.
    """
    proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", bufsize=1)
    tail: list[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            tail = [*tail[-39:], line]
            yield line
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        raise EvalFailed(code, tail)


def plots(out: Path) -> list[Path]:
    """PNG plots written beside the JSON output (same folder, name starting with its stem)."""
    if not out.parent.is_dir():
        return []
    return sorted(p for p in out.parent.glob(f"{out.stem}*.png") if p.is_file())
