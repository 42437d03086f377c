"""The tutor eval on the Evaluate page: run it, list earlier runs, render a report of type "tutor_eval"
(known fields, not guessed JSON) and compare two runs side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

REPORT_TYPE = "tutor_eval"


# ---------------------------------------------------------------- pure: runs on disk and table rows


def runs_dir(data_dir: Path) -> Path:
    return data_dir / "evals" / "tutor_eval"


def new_output(data_dir: Path, course: str, now: datetime) -> Path:
    """A new report file, named by time and course (never an existing one)."""
    stem = f"{now.strftime('%Y%m%d-%H%M%S')}-{course}"
    path, n = runs_dir(data_dir) / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = runs_dir(data_dir) / f"{stem}-{n}.json"
    return path


def earlier_runs(data_dir: Path) -> list[Path]:
    """Saved reports, newest first."""
    folder = runs_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*.json") if p.is_file()), reverse=True)


def load_report(path: Path) -> dict[str, Any]:
    """A saved tutor eval report; ValueError (one line) when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} cannot be read as JSON ({exc}); run the eval again") from exc
    if not isinstance(data, dict) or data.get("report") != REPORT_TYPE:
        raise ValueError(f"{path.name} is not a tutor eval report")
    return data


def _num(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def label(report: Mapping[str, Any]) -> str:
    meta = report["meta"]
    return f"{meta['course']}, {meta['learners']} learners, seed {meta['seed']} ({meta.get('created', '')})"


def headline_rows(report: Mapping[str, Any], run: str | None = None) -> list[dict[str, Any]]:
    """One row per configuration: the figures an evaluator reads first."""
    rows = []
    for name, fig in report["configs"].items():
        fm = fig["false_mastery"]
        row: dict[str, Any] = {"run": run} if run else {}
        row |= {
            "configuration": name,
            "items to mastery (mean)": _num(fig["items_to_mastery"]["mean"]),
            "median": _num(fig["items_to_mastery"]["median"]),
            "p90": _num(fig["items_to_mastery"]["p90"]),
            "turns to mastery (mean)": _num(fig["turns_to_mastery"]["mean"]),
            "false mastery": _num(fm["rate"], 4),
            "95% interval": f"{fm['low']:.3f} to {fm['high']:.3f}" if fm["low"] is not None else "-",
            "completed": _num(fig["completed"]["rate"], 3),
            "answer leaks": fig["leaks"]["count"],
            "step-backs per learner": _num(fig["step_backs"]["per_learner"]),
            "latency p50 ms": _num(fig["latency_ms"]["p50"], 0),
            "latency p95 ms": _num(fig["latency_ms"]["p95"], 0),
            "cost per learner $": _num(fig["usage"]["cost_per_learner_usd"], 4),
        }
        rows.append(row)
    return rows


def skill_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, fig in report["configs"].items():
        for skill, s in fig["skills"].items():
            rows.append({
                "configuration": name, "skill": skill, "mastered": s["items"]["n"],
                "items mean": _num(s["items"]["mean"]), "items median": _num(s["items"]["median"]),
                "items p90": _num(s["items"]["p90"]), "turns mean": _num(s["turns"]["mean"]),
                "turns p90": _num(s["turns"]["p90"]), "false mastery": _num(s["false_mastery"]["rate"], 3),
            })
    return rows


def teaching_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, fig in report["configs"].items():
        re_, usage = fig["reteaching"], fig["usage"]
        rows.append({
            "configuration": name, "re-teachings": re_["reteachings"],
            "accuracy 2 before": _num(re_["accuracy_before"], 3), "accuracy 2 after": _num(re_["accuracy_after"], 3),
            "step-backs": fig["step_backs"]["total"], "hints": fig["answers"]["hints"],
            "learner questions": fig["answers"]["questions"],
            "tokens per learner": _num(usage["input_tokens_per_learner"] + usage["output_tokens_per_learner"]
                                       + usage["cache_read_tokens_per_learner"]
                                       + usage["cache_write_tokens_per_learner"], 0),
            "cache-read share": _num(usage["cache_read_share"], 3),
        })
    return rows


def difference_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for comparison in report.get("comparisons", []):
        for metric, d in comparison["differences"].items():
            rows.append({
                "comparison": f"{comparison['other']} - {comparison['baseline']}", "metric": metric,
                "baseline": _num(d["baseline"], 4), "other": _num(d["other"], 4),
                "difference": _num(d["difference"], 4),
                "95% interval": "-" if d["low"] is None else f"{d['low']:+.4f} to {d['high']:+.4f}",
            })
    return rows


def judge_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, verdict in report.get("judge", {}).items():
        for dimension, entry in verdict["dimensions"].items():
            share = entry.get("desirable_share")
            rows.append({"configuration": name, "dimension": dimension.replace("_", " "),
                         "source": entry.get("source", entry.get("status")),
                         "desirable share": _num(share, 3)})
    return rows


def target_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"target": t["target"], "value": _num(t["value"], 3) if isinstance(t["value"], float) else t["value"],
             "met": "yes" if t["met"] else "no"} for t in report.get("targets", [])]


# ---------------------------------------------------------------- rendering


def show_report(report: Mapping[str, Any], path: Path) -> None:
    st.markdown(f"**{label(report)}**: configurations {', '.join(report['configs'])}")
    st.download_button("Download JSON", data=path.read_bytes(), file_name=path.name, mime="application/json",
                       icon=":material/download:", key=f"download_tutor_eval_{path.stem}", on_click="ignore")
    st.dataframe(target_rows(report), hide_index=True)
    st.dataframe(headline_rows(report), hide_index=True)
    picture = path.with_suffix(".png")
    if picture.is_file():
        st.image(str(picture), caption="items to mastery, false mastery, latency, cost", width=760)
    if report.get("comparisons"):
        st.markdown("**Differences from the first configuration** (same learners, paired bootstrap)")
        st.dataframe(difference_rows(report), hide_index=True)
    st.markdown("**Pedagogy (MRBench dimensions)**")
    st.dataframe(judge_rows(report), hide_index=True)
    with st.expander("Per skill, re-teaching, usage, and answer leaks"):
        st.dataframe(skill_rows(report), hide_index=True)
        st.dataframe(teaching_rows(report), hide_index=True)
        for name, fig in report["configs"].items():
            for leak in fig["leaks"]["examples"]:
                st.markdown(f"`{name}` · {leak['item_id']} · {leak['kind']} · key `{leak['key']}`")
                st.caption(leak["excerpt"])


def compare_runs(reports: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    rows = [row for name, report in reports for row in headline_rows(report, run=name)]
    st.dataframe(rows, hide_index=True)
