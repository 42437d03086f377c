"""The heavy-job queue with real subprocesses and a real SQLite database: order, position, progress, per-user
limit, cancelling (queued and running), results kept, and jobs cut off by a restart."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobLimit, JobQueue, progress_of


def script(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", code]


COUNT = script("import sys, time\nfor i in range(1, 5):\n    print(f'step {i}/4', flush=True)\n    time.sleep(0.05)\n"
               "open(sys.argv[1], 'w').write('result')\n")
SLOW = script("import time\nprint('started', flush=True)\ntime.sleep(30)\n")


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[JobQueue]:
    q = JobQueue(f"sqlite:///{tmp_path / 'tutor.db'}", tmp_path / "data", per_user=2, niceness=0)
    yield q
    q.close()


def wait_for(queue: JobQueue, job_id: str, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if job is not None and job.status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never became {status}: {queue.get(job_id)}")


@pytest.mark.parametrize(("line", "share"), [("simulating learner 50/200", 0.25), ("  37%|███", 0.37),
                                             ("100%", 1.0), ("nothing here", None), ("5/0 broken", None)])
def test_progress_is_read_from_output_lines(line: str, share: float | None) -> None:
    assert progress_of(line) == share


def test_jobs_run_one_at_a_time_in_order_and_keep_their_results(queue: JobQueue) -> None:
    first = queue.submit("alice", "test", "slow", SLOW)
    second = queue.submit("bob", "test", "count", [*COUNT, "{folder}/out.txt"], publish=queue.root / "latest")
    wait_for(queue, first.id, RUNNING)
    time.sleep(0.3)
    assert queue.get(second.id).status == QUEUED  # type: ignore[union-attr]
    assert queue.position(second.id) == 1 and queue.position(first.id) is None
    assert queue.cancel(first.id)
    done = queue.wait(second.id, timeout=30)
    assert done.status == DONE and done.progress == 1.0 and done.exit_code == 0
    assert (done.folder / "out.txt").read_text() == "result"
    assert (queue.root / "latest" / "out.txt").read_text() == "result"  # published for the page to show
    assert "step 4/4" in done.log_path.read_text()
    assert queue.get(first.id).status == CANCELLED  # type: ignore[union-attr]


def test_a_queued_job_can_be_cancelled_before_it_starts(queue: JobQueue) -> None:
    running = queue.submit("alice", "test", "slow", SLOW)
    waiting = queue.submit("bob", "test", "slow too", SLOW)
    wait_for(queue, running.id, RUNNING)
    assert queue.cancel(waiting.id)
    assert queue.get(waiting.id).status == CANCELLED  # type: ignore[union-attr]
    assert queue.cancel(running.id)
    assert queue.wait(running.id, timeout=20).status == CANCELLED
    assert not queue.cancel(running.id)  # already ended


def test_each_person_has_a_limit(queue: JobQueue) -> None:
    a = queue.submit("alice", "test", "one", SLOW)
    b = queue.submit("alice", "test", "two", SLOW)
    with pytest.raises(JobLimit, match="limit is 2"):
        queue.submit("alice", "test", "three", SLOW)
    queue.submit("bob", "test", "bob's", SLOW)  # others are not limited by alice's jobs
    queue.cancel(b.id)
    queue.submit("alice", "test", "three", SLOW)  # a cancelled job frees a place
    for job in queue.jobs():
        queue.cancel(job.id)
    assert queue.wait(a.id, timeout=20).status == CANCELLED


def test_a_failing_job_is_reported_with_its_last_line(queue: JobQueue) -> None:
    job = queue.submit("alice", "test", "broken", script("print('reading data'); raise SystemExit('no data: x.csv')"))
    ended = queue.wait(job.id, timeout=30)
    assert ended.status == FAILED and ended.exit_code == 1
    assert "no data: x.csv" in ended.message


def test_more_than_one_at_once_when_configured(tmp_path: Path) -> None:
    q = JobQueue(f"sqlite:///{tmp_path / 'tutor.db'}", tmp_path / "data", concurrency=2, niceness=0)
    try:
        a, b = q.submit("alice", "test", "a", SLOW), q.submit("bob", "test", "b", SLOW)
        wait_for(q, a.id, RUNNING)
        wait_for(q, b.id, RUNNING)
    finally:
        q.close()


def test_jobs_cut_off_by_a_restart_are_marked_failed(tmp_path: Path) -> None:
    url, data = f"sqlite:///{tmp_path / 'tutor.db'}", tmp_path / "data"
    q = JobQueue(url, data, niceness=0)
    job = q.submit("alice", "test", "slow", SLOW)
    wait_for(q, job.id, RUNNING)
    q._stopped = True  # stop dispatching without ending the job's row, as a crash would
    again = JobQueue(url, data, niceness=0)
    try:
        ended = again.get(job.id)
        assert ended is not None and ended.status == FAILED and "restarted" in ended.message
    finally:
        q.close()
        again.close()


def test_the_migration_makes_the_jobs_table_of_the_model(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from tutor.jobs import JobRow

    q = JobQueue(f"sqlite:///{tmp_path / 'tutor.db'}", tmp_path / "data", niceness=0)
    try:
        columns = {c["name"] for c in inspect(q.engine).get_columns("jobs")}
        assert columns == {c.name for c in JobRow.__table__.columns}
        assert inspect(q.engine).has_table("alembic_version")
    finally:
        q.close()
