"""A stand-in for `evals.tutor_eval` on the Evaluate page tests: prints progress, then copies a real report
(made by the test with `evals.tutor_eval.run` on the mini course; path in TUTOR_EVAL_FIXTURE) to --json.

    python -m tests.ui.fake_tutor_eval --course C --learners N --seed S [--config F ...] --json OUT
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--course", required=True)
    parser.add_argument("--learners", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    for i in range(1, args.learners + 1):
        print(f"simulated learner runs {i}/{args.learners}")
    report = json.loads(Path(os.environ["TUTOR_EVAL_FIXTURE"]).read_text(encoding="utf-8"))
    report["meta"] |= {"course": args.course, "learners": args.learners, "seed": args.seed,
                       "config_files": args.config}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
