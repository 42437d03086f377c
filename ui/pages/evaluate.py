"""Evaluate: run the mastery benchmark and the retrieval eval with progress, then read their tables and plots
and download the JSON."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

from tutor.auth import Action
from ui import auth, jobs, render, runs
from ui import tutor_eval_view as tev
from ui.state import get_tutor


def run_eval(spec: runs.EvalSpec, out: Path, args: list[str]) -> bool:
    """Queue one eval as a heavy job (one at a time, per-user limit; see the Jobs panel); True when queued.

    The job writes its report and plots into its own folder; when it succeeds they are also copied beside `out`,
    where the results below are read from.
    """
    job = jobs.submit(spec.name, spec.title, runs.command(spec, Path("{folder}") / out.name, args),
                      publish=out.parent)
    return job is not None


def show_results(spec: runs.EvalSpec, out: Path) -> None:
    """Tables from the JSON report, the plots beside it, and a download button."""
    if not out.is_file():
        st.caption("No results yet: run it above.")
        return
    raw = out.read_bytes()
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        st.error(f"{out} is not valid JSON ({exc}); run the eval again.")
        return
    when = datetime.fromtimestamp(out.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    head, button = st.columns([3, 1], vertical_alignment="center")
    head.markdown(f"**Results** (run {when})")
    button.download_button("Download JSON", data=raw, file_name=out.name, mime="application/json",
                           icon=":material/download:", key=f"download_{spec.name}", on_click="ignore")
    for plot in runs.plots(out):
        st.image(str(plot), caption=plot.name, width=720)
    tables = render.json_tables(data)
    comparisons = [(t, rows) for t, rows in tables if rows and "" in rows[0]]
    details = [(t, rows) for t, rows in tables if not (rows and "" in rows[0])]
    for title, rows in comparisons:
        st.markdown(f"**{title}**")
        st.dataframe(rows, hide_index=True)
    if details:
        with st.expander(f"More figures ({len(details)} tables)"):
            for title, rows in details:
                st.markdown(f"**{title}**")
                st.dataframe(rows, hide_index=True)


def mastery_section(data_dir: Path) -> None:
    spec = runs.MASTERY
    st.markdown(spec.description)
    out = runs.output_path(data_dir, spec)
    ready = runs.available(spec)
    with st.form("mastery_form", border=False):
        c1, c2 = st.columns(2)
        learners = c1.slider("Simulated learners", min_value=100, max_value=20_000, value=2_000, step=100)
        seed = c2.number_input("Seed", min_value=0, max_value=2**31 - 1, value=7, step=1)
        go = st.form_submit_button("Run the mastery benchmark", type="primary", disabled=not ready,
                                   icon=":material/play_arrow:")
    if not ready:
        st.warning(f"`{spec.module}` is not available in this installation.")
    if go:
        run_eval(spec, out, ["--learners", str(learners), "--seed", str(int(seed))])
    show_results(spec, out)


def retrieval_section(data_dir: Path) -> None:
    spec = runs.RETRIEVAL
    st.markdown(spec.description)
    out = runs.output_path(data_dir, spec)
    ready = runs.available(spec)
    if not ready:
        st.warning(f"`{spec.module}` is not available in this installation.")
    if st.button("Run the retrieval eval", type="primary", disabled=not ready, icon=":material/play_arrow:",
                 key="retrieval_run"):
        run_eval(spec, out, [])
    show_results(spec, out)


CONFIGS_DIR = runs.ROOT / "evals" / "configs"


def tutor_eval_section(data_dir: Path, courses: list[str]) -> None:
    spec = runs.TUTOR
    st.markdown(spec.description)
    ready = runs.available(spec)
    configs = sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml")) if CONFIGS_DIR.is_dir() else []
    with st.form("tutor_eval_form", border=False):
        c1, c2, c3 = st.columns(3)
        course = c1.selectbox("Course", courses)
        learners = c2.number_input("Simulated learners", min_value=1, max_value=2_000, value=100, step=10)
        seed = c3.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1, key="tutor_eval_seed")
        chosen = st.multiselect("Configurations (the first is the baseline)", configs,
                                default=[c for c in ("default",) if c in configs])
        go = st.form_submit_button("Run the tutor eval", type="primary", disabled=not ready,
                                   icon=":material/play_arrow:")
    if not ready:
        st.warning(f"`{spec.module}` is not available in this installation.")
    if go and course:
        out = tev.new_output(data_dir, course, datetime.now())
        args = ["--course", course, "--learners", str(int(learners)), "--seed", str(int(seed))]
        for name in chosen:
            args += ["--config", str(CONFIGS_DIR / f"{name}.yaml")]
        run_eval(spec, out, args)
    saved = tev.earlier_runs(data_dir)
    if not saved:
        st.caption("No results yet: run it above.")
        return
    names = [p.name for p in saved]
    opened = st.selectbox("Open a run", names, index=0, key="tutor_eval_open")
    try:
        report = tev.load_report(saved[names.index(opened)])
    except ValueError as exc:
        st.error(str(exc))
        return
    tev.show_report(report, saved[names.index(opened)])
    others = st.multiselect("Compare with earlier runs", [n for n in names if n != opened], key="tutor_eval_cmp")
    if others:
        loaded = [(opened, report)]
        for name in others:
            try:
                loaded.append((name, tev.load_report(saved[names.index(name)])))
            except ValueError as exc:
                st.error(str(exc))
        tev.compare_runs(loaded)


def main() -> None:
    account = auth.require(Action.EVALUATE)
    data_dir = get_tutor().settings.data_dir
    st.title("Evaluate")
    mastery, retrieval, tutor_tab = st.tabs([runs.MASTERY.title, runs.RETRIEVAL.title, runs.TUTOR.title])
    with mastery:
        mastery_section(data_dir)
    with retrieval:
        retrieval_section(data_dir)
    with tutor_tab:
        tutor_eval_section(data_dir, sorted(get_tutor().courses))
    st.subheader("Jobs")
    jobs.panel(account)


main()
