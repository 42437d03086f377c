"""Tutor eval: simulated learners through the whole tutor, per configuration, compared side by side.

    python -m evals.tutor_eval --course fractions --learners 100 --seed 1 --json evals/out/tutor_eval.json
    python -m evals.tutor_eval --course fractions --learners 100 --seed 1 \\
        --config evals/configs/default.yaml --config evals/configs/lax-gate.yaml --json OUT

Simulated learners (evals/learner_sim.py; population file evals/populations/default.yaml) chat with the
tutor through `tutor.session.Tutor` (evals/tutor_driver.py), each configuration with the same learners and
seeds, in a fresh data folder with its own records and checkpoints and a copy of the course's passage
store. Figures per configuration (evals/tutor_figures.py): items and turns to mastery per skill, false
mastery with a Wilson interval, completion within the turn budget, re-teaching effectiveness, step-backs,
answer leaks, turn latency, tokens and cost; then each configuration against the first, with paired
bootstrap intervals; then the pedagogy judge (evals/pedagogy_judge.py). Writes OUT (JSON, report type
"tutor_eval") and a plot beside it (OUT with the suffix .png).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.learner_sim import DEFAULT_POPULATION, Population, PopulationError, draw_learner, load_population
from evals.tutor_driver import Trace, TutorDriver, run_learner
from evals.tutor_figures import PRICES, compare, config_figures, cost_usd

ROOT = Path(__file__).resolve().parents[1]
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
REPORT_TYPE = "tutor_eval"
TARGETS = {"false_mastery_max": 0.03, "leaks_max": 0, "seconds_per_100_learners_max": 180.0}


class EvalInputError(ValueError):
    """Bad input to the eval (a file, a flag): one line naming it and the fix."""


class MasteryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(None, gt=0, le=1)
    min_items: int | None = Field(None, ge=1)
    window: int | None = Field(None, ge=1)
    bar: float | None = Field(None, gt=0, le=1)
    max_consecutive_misses: int | None = Field(None, ge=1)


class BKTConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prior: float | None = Field(None, ge=0, le=1)
    learn: float | None = Field(None, ge=0, le=1)
    guess: float | None = Field(None, ge=0, lt=0.5)
    slip: float | None = Field(None, ge=0, lt=0.5)


class EvalConfig(BaseModel):
    """One configuration of the tutor to evaluate (a YAML file under evals/configs/)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    provider: Literal["offline", "anthropic"] = "offline"
    mastery: MasteryConfig | None = Field(None, description="gate override, applied over every skill's own")
    bkt: BKTConfig | None = Field(None, description="knowledge-tracing override for every skill")
    prompts: str | None = Field(None, description="a prompt set: a folder of templates Claude uses instead of "
                                "prompts/ (relative to the configuration file); no effect offline")
    file: str | None = None

    def settings(self, data_dir: Path) -> Any:
        """The tutor's settings under this configuration, with `data_dir` for its records and checkpoints."""
        from tutor.settings import Settings

        prompt_set = Path(self.prompts) if self.prompts else None
        if self.provider == "offline":
            return Settings(data_dir=data_dir, anthropic_api_key=None, prompt_set=prompt_set)
        return Settings(data_dir=data_dir, prompt_set=prompt_set)


DEFAULT_CONFIG = EvalConfig(name="default")


def load_config(path: Path) -> EvalConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read the configuration ({exc.strerror}); check the path") from exc
    except yaml.YAMLError as exc:
        raise EvalInputError(f"{path}: not valid YAML ({exc}); fix the syntax") from exc
    if not isinstance(raw, dict):
        raise EvalInputError(f"{path}: a configuration is a mapping with at least `name:` (see {CONFIGS_DIR})")
    try:
        config = EvalConfig.model_validate({**raw, "file": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise EvalInputError(f"{path}: [{where}] {first['msg']} (fix: see {CONFIGS_DIR}/lax-gate.yaml)") from exc
    if config.prompts is None:
        return config
    from tutor.llm.prompts import PromptError, check_prompt_set

    folder = (path.parent / config.prompts).resolve()
    try:
        check_prompt_set(folder)
    except PromptError as exc:
        raise EvalInputError(f"{path}: [prompts] {exc}") from exc
    return config.model_copy(update={"prompts": str(folder)})


def configured_course(course: Any, config: EvalConfig) -> Any:
    """The course with the configuration's gate and knowledge-tracing overrides applied to every skill."""
    from tutor.course.models import BKTOverride, MasteryOverride

    if config.mastery is None and config.bkt is None:
        return course
    mastery = MasteryOverride(**config.mastery.model_dump()) if config.mastery else None
    skills = []
    for skill in course.skills:
        update: dict[str, Any] = {}
        if mastery is not None:
            update["mastery"] = MasteryOverride(**mastery.apply(course.criterion(skill.id)).model_dump())
        if config.bkt is not None:
            merged = course.skill_bkt(skill.id).model_copy(update=config.bkt.model_dump(exclude_none=True))
            update["bkt"] = BKTOverride(**merged.model_dump())
        skills.append(skill.model_copy(update=update))
    course_update: dict[str, Any] = {"skills": tuple(skills)}
    if mastery is not None:
        course_update["mastery"] = mastery.apply(course.mastery)
    return course.model_copy(update=course_update)


def learner_questions(course_id: str) -> dict[str, list[str]]:
    """Learner-style questions per skill, from the course's retrieval eval set when there is one."""
    path = DATASETS_DIR / f"retrieval_{course_id}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions: dict[str, list[str]] = {}
    for row in data.get("questions", []):
        questions.setdefault(str(row.get("skill")), []).append(str(row["q"]))
    return questions


# ---------------------------------------------------------------- workers


@dataclass(frozen=True)
class Job:
    course_dir: str
    store_dir: str
    work_dir: str
    configs: tuple[EvalConfig, ...]
    population: Population
    seed: int
    budget: int


class _Clock:
    """Simulated time: 20 seconds per reading, so runs are reproducible and reviews fall where they would."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=20)
        return self.now


_WORKER: dict[str, Any] = {}


def _exit_with_parent() -> None:
    """End this pool worker when the eval that started it is gone (killed, say): a worker waiting for its next
    learner would otherwise wait for ever, since it holds its task queue's write end too."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)  # nothing of a worker's outlives its eval: its data folder is the parent's temporary one

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker_init(job: Job) -> None:
    _exit_with_parent()
    from tutor.course.loader import load_course
    from tutor.retrieval import open_store
    from tutor.session import Tutor
    from tutor.settings import Settings

    own = Path(tempfile.mkdtemp(prefix="worker-", dir=job.work_dir))
    shutil.copytree(job.store_dir, own / "store")
    store = open_store(Settings(data_dir=own / "store", anthropic_api_key=None))
    course = load_course(Path(job.course_dir))
    drivers: dict[str, TutorDriver] = {}
    for config in job.configs:
        settings = config.settings(own / config.name)
        tutor = Tutor(settings, store=store, courses=[configured_course(course, config)], clock=_Clock())
        drivers[config.name] = TutorDriver(tutor, course.id)
    _WORKER.update(job=job, drivers=drivers, course=course, questions=learner_questions(course.id))


def _usage(driver: TutorDriver, learner_id: str) -> dict[str, Any]:
    rows = [u for u in driver.tutor.records.usage(driver.course_id) if u.learner_id == learner_id]
    totals: dict[str, Any] = {
        "calls": sum(1 for u in rows if u.provider != "fallback"),
        "fallbacks": sum(1 for u in rows if u.fallback_reason),
        "input_tokens": sum(u.input_tokens for u in rows),
        "output_tokens": sum(u.output_tokens for u in rows),
        "cache_read_tokens": sum(u.cache_read_tokens for u in rows),
        "cache_write_tokens": sum(u.cache_write_tokens for u in rows),
    }
    costs = [cost_usd(u.provider, u.model, u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens)
             for u in rows]
    totals["cost_usd"] = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    return totals


def _run_one(task: tuple[str, int]) -> tuple[str, Trace]:
    name, index = task
    job: Job = _WORKER["job"]
    driver: TutorDriver = _WORKER["drivers"][name]
    learner = draw_learner(index, job.seed, job.population, _WORKER["course"])
    cpu = time.process_time()
    trace = run_learner(driver, learner, budget=job.budget, questions=_WORKER["questions"])
    trace.cpu_seconds = time.process_time() - cpu
    trace.usage = _usage(driver, f"sim-{index:05d}")
    return name, trace


def simulate(job: Job, learners: int, workers: int,
             progress: Callable[[int, int], None] | None = None) -> dict[str, list[Trace]]:
    """Every learner under every configuration; traces per configuration, in learner order."""
    tasks = [(config.name, index) for index in range(learners) for config in job.configs]
    results: dict[str, list[Trace]] = {config.name: [] for config in job.configs}
    done = 0
    if workers <= 1:
        _worker_init(job)
        outputs = map(_run_one, tasks)
        for name, trace in outputs:
            results[name].append(trace)
            done += 1
            if progress:
                progress(done, len(tasks))
        return results
    # spawn, not fork: the parent has the embedding model's threads running (a forked child can deadlock)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                             initargs=(job,)) as pool:
        for name, trace in pool.map(_run_one, tasks, chunksize=1):
            results[name].append(trace)
            done += 1
            if progress:
                progress(done, len(tasks))
    return results


def build_store(course_dir: Path, where: Path) -> None:
    """A passage store holding the course, built once and copied for each worker."""
    from tutor.retrieval import ingest_course, open_store
    from tutor.settings import Settings

    store = open_store(Settings(data_dir=where, anthropic_api_key=None))
    report = ingest_course(store, course_dir)
    if not report.ok:
        raise EvalInputError(f"{course_dir}: the course's sources did not load ({report.summary()}); "
                             f"run `tutor content validate {course_dir}`")


# ---------------------------------------------------------------- the report


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, read from the first (baseline) configuration's figures."""
    meta = report["meta"]
    first = report["configs"][meta["configs"][0]["name"]]
    rate = first["false_mastery"]["rate"]
    per_100 = 100 / max(1, meta["learners"]) / max(1, len(meta["configs"]))
    seconds = meta["simulate_seconds"] * per_100
    two_cores = meta["cpu_seconds"] * per_100 / 2
    return [
        {"target": "false mastery <= 3%", "value": rate,
         "met": rate is not None and rate <= TARGETS["false_mastery_max"]},
        {"target": "answer leaks = 0", "value": first["leaks"]["count"],
         "met": first["leaks"]["count"] <= TARGETS["leaks_max"]},
        {"target": "100 learners through the course in under 3 minutes (wall clock, this machine as loaded)",
         "value": seconds, "met": seconds < TARGETS["seconds_per_100_learners_max"]},
        {"target": "the same from CPU time: seconds on 2 otherwise idle cores", "value": two_cores,
         "met": two_cores < TARGETS["seconds_per_100_learners_max"]},
    ]


def run(
    course: str,
    learners: int,
    seed: int,
    *,
    population_file: Path = DEFAULT_POPULATION,
    configs: Sequence[EvalConfig] = (DEFAULT_CONFIG,),
    budget: int | None = None,
    workers: int = 2,
    content_dir: Path = ROOT / "content",
    judge: bool = True,
    judge_samples: int = 12,
    progress: Callable[[int, int], None] | None = None,
    settings_env: Any = None,
) -> dict[str, Any]:
    """The whole eval as a JSON-ready dict."""
    from evals.pedagogy_judge import judge_report
    from tutor.course.loader import load_course

    course_dir = content_dir / course
    if not (course_dir / "course.yaml").is_file():
        raise EvalInputError(f"--course {course}: no {course_dir}/course.yaml; give a folder under {content_dir}")
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise EvalInputError(f"configurations must have different names (got {', '.join(names)})")
    population = load_population(population_file)
    loaded = load_course(course_dir)
    budget = budget or 25 * len(loaded.skills)
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="tutor-eval-") as tmp:
        build_store(course_dir, Path(tmp) / "store")
        job = Job(str(course_dir), str(Path(tmp) / "store"), tmp, tuple(configs), population, seed, budget)
        t0 = time.perf_counter()
        traces = simulate(job, learners, workers, progress)
        simulate_seconds = time.perf_counter() - t0
    skills = [s.id for s in loaded.skills]
    report: dict[str, Any] = {
        "report": REPORT_TYPE,
        "version": 1,
        "meta": {
            "course": course, "learners": learners, "seed": seed, "turn_budget": budget, "workers": workers,
            "population": population.name, "population_file": str(population_file),
            "profile_mix": {p.name: p.weight for p in population.profiles},
            "configs": [c.model_dump() for c in configs], "skills": skills,
            "prices_usd_per_mtok": {k: dict(zip(("input", "output", "cache_read", "cache_write"), v, strict=True))
                                    for k, v in PRICES.items()},
            "simulate_seconds": simulate_seconds,
            "cpu_seconds": sum(t.cpu_seconds for name in names for t in traces[name]),
            "load_average_at_start": load, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "configs": {name: config_figures(traces[name], skills, budget) for name in names},
        "comparisons": [
            {"baseline": names[0], "other": other, "differences": compare(traces[names[0]], traces[other], seed)}
            for other in names[1:]
        ],
    }
    report["notes"] = [f"configuration {c.name}: its prompt set ({c.prompts}) has no effect offline (the offline "
                       "provider writes from its own templates, not the prompt set's)"
                       for c in configs if c.prompts and c.provider == "offline"]
    report["judge"] = {name: judge_report(traces[name], enabled=judge, samples=judge_samples, seed=seed,
                                          settings=settings_env) for name in names}
    report["targets"] = targets(report)
    report["meta"]["seconds"] = time.perf_counter() - started
    return report


def table(report: dict[str, Any]) -> str:
    def fmt(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = [f"{'configuration':<16}{'items mean':>11}{'median':>8}{'p90':>6}{'false mastery [95% CI]':>26}"
             f"{'completed':>11}{'leaks':>7}{'step-backs':>12}{'p50 ms':>8}{'p95 ms':>8}{'$/learner':>10}"]
    for name, fig in report["configs"].items():
        items, fm = fig["items_to_mastery"], fig["false_mastery"]
        interval = f"{fmt(fm['rate'], '.3f')} [{fmt(fm['low'], '.3f')}, {fmt(fm['high'], '.3f')}]"
        lines.append(
            f"{name:<16}{fmt(items['mean'], '.2f'):>11}{fmt(items['median'], '.1f'):>8}{fmt(items['p90'], '.1f'):>6}"
            f"{interval:>26}{fmt(fig['completed']['rate'], '.2f'):>11}{fig['leaks']['count']:>7}"
            f"{fig['step_backs']['total']:>12}{fmt(fig['latency_ms']['p50'], '.0f'):>8}"
            f"{fmt(fig['latency_ms']['p95'], '.0f'):>8}{fmt(fig['usage']['cost_per_learner_usd'], '.4f'):>10}"
        )
    for comparison in report["comparisons"]:
        lines.append(f"\n{comparison['other']} - {comparison['baseline']} (paired bootstrap 95% interval):")
        for metric, d in comparison["differences"].items():
            lines.append(f"  {metric:<24}{fmt(d['difference'], '+.4f'):>10}  "
                         f"[{fmt(d['low'], '+.4f')}, {fmt(d['high'], '+.4f')}]")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["configs"])
    figs = [report["configs"][n] for n in names]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    ax = axes[0][0]
    ax.boxplot([f["items_to_mastery_values"] or [0] for f in figs], tick_labels=names)
    ax.set_title("items to mastery (per skill mastered)")
    ax = axes[0][1]
    rates = [f["false_mastery"]["rate"] or 0.0 for f in figs]
    errors = [[r - (f["false_mastery"]["low"] or r) for r, f in zip(rates, figs, strict=True)],
              [(f["false_mastery"]["high"] or r) - r for r, f in zip(rates, figs, strict=True)]]
    ax.bar(names, rates, yerr=errors, capsize=6, color="tab:red")
    ax.axhline(TARGETS["false_mastery_max"], color="grey", linestyle="--", linewidth=1)
    ax.set_title("false mastery (Wilson 95% interval)")
    ax = axes[1][0]
    width = 0.38
    xs = range(len(names))
    ax.bar([x - width / 2 for x in xs], [f["latency_ms"]["p50"] or 0 for f in figs], width, label="p50")
    ax.bar([x + width / 2 for x in xs], [f["latency_ms"]["p95"] or 0 for f in figs], width, label="p95")
    ax.set_xticks(list(xs), names)
    ax.legend()
    ax.set_title("turn latency (ms)")
    ax = axes[1][1]
    ax.bar(names, [f["usage"]["cost_per_learner_usd"] or 0.0 for f in figs], color="tab:green")
    ax.set_ylim(bottom=0)  # offline runs cost nothing: no axis below zero
    ax.set_title("cost per learner (USD)")
    if not any(f["usage"]["cost_per_learner_usd"] for f in figs):  # an empty panel would read as missing data
        ax.text(0.5, 0.5, "no LLM calls: offline runs cost nothing", ha="center", va="center",
                transform=ax.transAxes, color="dimgray")
    meta = report["meta"]
    fig.suptitle(f"Tutor eval: {meta['course']}, {meta['learners']} learners, seed {meta['seed']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated learners through the whole tutor, per configuration.")
    parser.add_argument("--course", required=True, help="course id (a folder under the content folder)")
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population", type=Path, default=DEFAULT_POPULATION)
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="a configuration YAML (repeat to compare; the first is the baseline)")
    parser.add_argument("--turn-budget", type=int, default=None, help="learner messages per learner (25 per skill)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--content-dir", type=Path, default=ROOT / "content")
    parser.add_argument("--no-judge", action="store_true", help="do not call the LLM judge even with an API key")
    parser.add_argument("--judge-samples", type=int, default=12)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.learners < 1:
            raise EvalInputError(f"--learners {args.learners}: give at least 1")
        configs = [load_config(p) for p in args.config] or [DEFAULT_CONFIG]
        total = args.learners * len(configs)

        def progress(done: int, of: int) -> None:
            if done == of or done % max(1, of // 20) == 0:
                print(f"simulated learner runs {done}/{of}", flush=True)

        report = run(args.course, args.learners, args.seed, population_file=args.population, configs=configs,
                     budget=args.turn_budget, workers=max(1, args.workers), content_dir=args.content_dir,
                     judge=not args.no_judge, judge_samples=args.judge_samples, progress=progress)
    except (EvalInputError, PopulationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    picture = args.json.with_suffix(".png")
    plot(report, picture)
    print(table(report))
    for row in report["targets"]:
        value = row["value"]
        shown = "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
        print(f"{row['target']}: {shown} {'yes' if row['met'] else 'NO'}")
    for note in report["notes"]:
        print(f"note: {note}")
    for name, fig in report["configs"].items():
        errors = fig["tutor_errors"]
        if errors["count"]:
            print(f"tutor errors ({name}): {errors['count']}, e.g. {errors['examples'][0]}")
    for name, verdict in report["judge"].items():
        print(f"pedagogy judge ({name}): {verdict['status']}")
    print(f"{total} learner runs in {report['meta']['simulate_seconds']:.1f} s "
          f"({report['meta']['seconds']:.1f} s in all); wrote {args.json} and {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
