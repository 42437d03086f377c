"""A learner driver for the kill -9 torture test and the load benchmark, through the same Tutor API the front
ends use: it prints `SHOWN <learner> <question id|complete>` after each resume and `ACK <learner> <question id>
<correct> <answer>` only once the feedback for that answer has reached it.

    python -m tests.support.torture DATA_DIR STORE_DIR DATABASE_URL|"" LEARNER... [--turns N]
"""

from __future__ import annotations

import argparse
import random
import sys

from tests.support.learner import answer, course_dir
from tutor.course.loader import load_course
from tutor.retrieval import open_store
from tutor.session import Tutor
from tutor.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("store")
    parser.add_argument("url")
    parser.add_argument("learners", nargs="+")
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tutor = Tutor(Settings(data_dir=args.data, database_url=args.url or None),
                  store=open_store(Settings(data_dir=args.store)), courses=[load_course(course_dir("mini-course"))])
    out = sys.stdout
    for learner in args.learners:
        list(tutor.start(learner, "mini"))
        view = tutor.view(learner, "mini")
        shown = (view.pending or {}).get("question_id") or ("complete" if view.complete else "")
        out.write(f"SHOWN {learner} {shown or 'NOTHING'}\n")
    out.write("READY\n")
    out.flush()
    for turn in range(args.turns):
        active = [x for x in args.learners if not tutor.view(x, "mini").complete]
        if not active:
            break
        learner = active[turn % len(active)]
        pending = tutor.view(learner, "mini").pending
        if pending is None:
            list(tutor.start(learner, "mini"))
            continue
        question_id = pending["question_id"]
        text = answer(tutor, learner, "mini", right=rng.random() < 0.75)
        for event in tutor.send(learner, "mini", text, question_id=question_id):
            message = event.get("message") or {}
            if message.get("kind") == "feedback" and message.get("question_id") == question_id:
                out.write(f"ACK {learner} {question_id} {int(bool(message.get('correct')))} {text}\n")
                out.flush()
    out.write("DONE\n")
    out.flush()
    tutor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
