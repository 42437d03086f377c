"""A learner driver for the kill -9 torture test, through the same Tutor API the front ends use. It works for
`--active` learners at a time, taken in order from those named (a learner whose course is complete makes way for
the next), so it has answers to give until it is killed. It prints `SHOWN <learner> <question id|complete>` after
each resume or start and `ACK <learner> <question id> <correct> <answer>` only once the feedback for that answer
has reached it.

    python -m tests.support.torture DATA_DIR STORE_DIR DATABASE_URL|"" LEARNER... [--active N] [--turns N]
    python -m tests.support.torture serve

`serve` imports all this once and then forks a driver for each line of arguments read from stdin, so a round of
the torture test pays no interpreter start-up or imports (about 2.5 s a round here): it prints `PID <pid>`, then
the driver's own lines, then `EXIT <code>` (negative: the signal that ended it) once the driver has ended.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import traceback

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
    parser.add_argument("--active", type=int, default=4)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tutor = Tutor(Settings(data_dir=args.data, database_url=args.url or None),
                  store=open_store(Settings(data_dir=args.store)), courses=[load_course(course_dir("mini-course"))])
    out = sys.stdout
    waiting = iter(args.learners)
    working: list[str] = []

    def take_next() -> bool:
        """Resume (or start) the next learner; False when none is left."""
        for learner in waiting:
            list(tutor.start(learner, "mini"))
            view = tutor.view(learner, "mini")
            shown = (view.pending or {}).get("question_id") or ("complete" if view.complete else "")
            out.write(f"SHOWN {learner} {shown or 'NOTHING'}\n")
            out.flush()
            if not view.complete:
                working.append(learner)
                return True
        return False

    while len(working) < args.active and take_next():
        pass
    out.write("READY\n")
    out.flush()
    for turn in range(args.turns):
        if not working:
            break
        learner = working[turn % len(working)]
        view = tutor.view(learner, "mini")
        if view.complete:  # makes way for the next learner
            working.remove(learner)
            take_next()
            continue
        if view.pending is None:
            list(tutor.start(learner, "mini"))
            continue
        question_id = view.pending["question_id"]
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


def serve() -> int:
    for line in sys.stdin:
        sys.stdout.flush()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the driver: waits until its pid is printed, so the pid comes before any line of its own
            os.close(go_w)
            os.read(go_r, 1)
            code = 1
            try:
                code = main(shlex.split(line))
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(go_r)
        print(f"PID {pid}", flush=True)
        os.write(go_w, b"x")
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
        print(f"EXIT {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["serve"] else main())
