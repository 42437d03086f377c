"""A stand-in eval for the Evaluate page tests: prints progress, writes a JSON report and a PNG beside it.

    python -m tests.ui.fake_eval [--learners N] [--seed S] --json OUT     (seed 13 fails with exit code 3)
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    for i in range(1, args.learners + 1):
        print(f"simulating learner {i}/{args.learners}")
    if args.seed == 13:
        print("the simulated learners refused to learn", file=sys.stderr)
        return 3
    report = {
        "seed": args.seed,
        "learners": args.learners,
        "courses": {
            "fractions": {"false_mastery_rate": 0.02, "items_to_mastery": 7.5},
            "data-privacy": {"false_mastery_rate": 0.04, "items_to_mastery": 6.0},
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report), encoding="utf-8")
    args.json.with_suffix(".png").write_bytes(PNG)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
