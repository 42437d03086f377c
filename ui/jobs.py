"""Heavy jobs from the pages: submit to the process's job queue and show the person's jobs (position in the
queue, progress, cancel). Pages call `submit(...)` and `panel(...)`; nothing heavy runs in a page's own run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from tutor.auth import Account, Action, allowed
from tutor.jobs import ACTIVE, CANCELLED, DONE, FAILED, QUEUED, Job, JobLimit, JobQueue
from tutor.settings import Settings
from ui import auth

ROOT = Path(__file__).resolve().parents[1]
ICONS = {QUEUED: ":material/hourglass_top:", "running": ":material/sync:", DONE: ":material/check_circle:",
         FAILED: ":material/error:", CANCELLED: ":material/cancel:"}


@st.cache_resource
def get_queue() -> JobQueue:
    """One queue per tutor process, shared by every browser session."""
    settings = Settings()
    # jobs run in the app's folder (so relative settings mean the same) with the project importable
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    return JobQueue(settings.resolved_database_url, settings.data_dir, concurrency=settings.jobs_concurrency,
                    per_user=settings.jobs_per_user, env=env)


def submit(kind: str, title: str, command: Sequence[str], publish: Path | None = None,
           action: Action = Action.RUN_JOB) -> Job | None:
    """Queue a job for the signed-in person (`action` checked here); None, with the reason shown, when refused."""
    account = auth.require(action)
    try:
        job = get_queue().submit(account.id, kind, title, command, publish)
    except JobLimit as exc:
        st.error(str(exc).capitalize() + ".", icon=":material/block:")
        return None
    st.toast(f"{title} queued", icon=":material/hourglass_top:")
    return job


def _cancel(job_id: str) -> None:
    account = auth.current_account()
    job = get_queue().get(job_id)
    if account is None or job is None:
        return
    if job.owner == account.id or allowed(account.role, Action.CANCEL_ANY_JOB):
        get_queue().cancel(job_id)


def _show(job: Job, queue: JobQueue, mine: bool) -> None:
    with st.container(border=True):
        head, button = st.columns([5, 1], vertical_alignment="center")
        when = job.created_at.strftime("%H:%M:%S")
        head.markdown(f"{ICONS.get(job.status, '')} **{job.title}** · {job.status} · queued {when} UTC"
                      + ("" if mine else f" · by {job.owner[:8]}"))
        if job.active:
            button.button("Cancel", key=f"cancel-{job.id}", on_click=_cancel, args=(job.id,),
                          icon=":material/stop_circle:")
        if job.status == QUEUED:
            st.caption(f"Position in the queue: {queue.position(job.id)}")
        elif job.status == "running":
            st.progress(min(1.0, max(0.0, job.progress)), text=job.message[-160:] or "running…")
        elif job.status == FAILED:
            st.caption(f"Failed (exit code {job.exit_code}): {job.message[-300:]}")
            if job.log_path.is_file():
                st.code("\n".join(job.log_path.read_text(errors="replace").splitlines()[-20:]), language=None)


def panel(account: Account, kinds: Sequence[str] | None = None, limit: int = 8) -> None:
    """The person's recent jobs (an admin sees everyone's), refreshed every two seconds while any is active."""

    @st.fragment(run_every=2.0)
    def jobs() -> None:
        queue = get_queue()
        everyone = allowed(account.role, Action.CANCEL_ANY_JOB)
        shown = [j for j in queue.jobs(None if everyone else account.id, limit=limit)
                 if kinds is None or j.kind in kinds]
        if not shown:
            st.caption("No jobs yet.")
            return
        for job in shown:
            _show(job, queue, job.owner == account.id)
        if not any(j.status in ACTIVE for j in shown) and any(j.status == DONE for j in shown):
            finished = max((j.finished_at for j in shown if j.finished_at), default=None)
            if finished and st.session_state.get("jobs_seen_finished") != finished:
                st.session_state["jobs_seen_finished"] = finished
                st.rerun()  # the whole page, so that fresh results appear

    jobs()
