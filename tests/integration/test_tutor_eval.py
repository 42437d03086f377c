"""The tutor eval on a small case: simulated learners through the real tutor (real Chroma, SQLite, graph)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from evals.learner_sim import (
    DEFAULT_POPULATION,
    PopulationError,
    answer_keys,
    draw_learner,
    load_population,
    right_answer,
    wrong_answer,
)
from evals.pedagogy_judge import DIMENSIONS, judge_report
from evals.tutor_driver import Sample, Trace, reveals
from evals.tutor_eval import EvalConfig, EvalInputError, load_config, run
from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tutor.course.loader import load_course
from tutor.course.models import FreeResponseItem
from tutor.course.templates import instantiate
from tutor.grading import grade_objective
from tutor.llm.offline import OfflineProvider
from tutor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "evals" / "configs"
OFFLINE = Settings(anthropic_api_key=None)


@pytest.fixture(scope="module")
def lax_vs_default() -> dict[str, object]:
    """One run of two configurations on the same 16 learners of the mini course (one worker)."""
    return run("mini-course", 16, seed=3, configs=[load_config(CONFIGS / "default.yaml"),
                                                     load_config(CONFIGS / "lax-gate.yaml")],
               workers=1, content_dir=ROOT / "tests" / "fixtures", settings_env=OFFLINE)


def test_a_lax_gate_shows_more_false_mastery_than_the_default(lax_vs_default: dict) -> None:  # type: ignore[type-arg]
    default, lax = lax_vs_default["configs"]["default"], lax_vs_default["configs"]["lax-gate"]
    assert default["false_mastery"]["n"] > 0 and lax["false_mastery"]["n"] > 0
    assert lax["false_mastery"]["rate"] > default["false_mastery"]["rate"]
    assert lax["items_to_mastery"]["mean"] < default["items_to_mastery"]["mean"]
    low, high = default["false_mastery"]["low"], default["false_mastery"]["high"]
    assert low <= default["false_mastery"]["rate"] <= high
    difference = lax_vs_default["comparisons"][0]["differences"]["false_mastery_rate"]
    assert difference["difference"] > 0 and difference["low"] <= difference["difference"] <= difference["high"]


def test_every_learner_ran_through_the_tutor_and_was_graded_as_intended(lax_vs_default: dict) -> None:  # type: ignore[type-arg]
    for figures in lax_vs_default["configs"].values():
        answers = figures["answers"]
        assert answers["graded"] > 16 and answers["unread"] == 0
        assert answers["graded_against_intent"] == 0  # the simulator's keys agree with the tutor's grading
        assert figures["latency_ms"]["turns"] >= answers["graded"]
        assert figures["usage"]["cost_per_learner_usd"] == 0.0  # offline
        assert set(figures["skills"]) == {"halves", "adding", "words"}
        assert figures["completed"]["n"] == 16
    default = lax_vs_default["configs"]["default"]
    assert default["answers"]["questions"] > 0 and default["answers"]["hints"] > 0
    # learners asked questions while a question was open; the tutor never quoted its answer
    assert default["leaks"]["count"] == 0, default["leaks"]["examples"]
    judge = lax_vs_default["judge"]["default"]
    assert judge["dimensions"]["revealing_the_answer"]["source"] == "computed"
    assert judge["dimensions"]["coherence"] == {"status": "not run"}


def test_the_command_writes_the_report_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    done = subprocess.run(
        [sys.executable, "-m", "evals.tutor_eval", "--course", "mini-course", "--learners", "3", "--seed", "1",
         "--workers", "2", "--content-dir", "tests/fixtures", "--no-judge", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["report"] == "tutor_eval" and report["meta"]["learners"] == 3
    assert out.with_suffix(".png").is_file()
    assert "false mastery <= 3%" in done.stdout


def test_bad_input_gets_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmastery: {min_items: 0}\n")
    done = subprocess.run([sys.executable, "-m", "evals.tutor_eval", "--course", "fractions", "--config", str(bad),
                           "--json", str(tmp_path / "o.json")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "[mastery.min_items]" in done.stderr and str(bad) in done.stderr
    population = tmp_path / "pop.yaml"
    population.write_text("name: p\nprofiles:\n  - {name: a, weight: 1, guess: 2}\n")
    with pytest.raises(PopulationError, match=r"\[profiles.0.guess\]"):
        load_population(population)


def test_simulated_answers_are_graded_as_meant() -> None:
    """Right answers come from the item's key, wrong ones are plausible and graded wrong, on both courses."""
    rng = random.Random(0)
    offline = OfflineProvider()
    for name in ("fractions", "data-privacy"):
        course = load_course(ROOT / "content" / name)
        for items in course.items.values():
            for item in items:
                instance = instantiate(item, rng.randrange(10**6))
                right, wrong = right_answer(item, instance), wrong_answer(item, instance, course, rng)
                if isinstance(item, FreeResponseItem):
                    assert offline.grade_free_response(item=item, answer=right)[0].correct, item.id
                    assert not offline.grade_free_response(item=item, answer=wrong)[0].correct, item.id
                else:
                    assert grade_objective(item, right, instance).correct, item.id
                    wrong_grade = grade_objective(item, wrong, instance)
                    assert wrong_grade.understood and not wrong_grade.correct, (item.id, wrong)
                assert answer_keys(item, instance)


def test_the_same_learners_are_drawn_for_every_configuration() -> None:
    course = load_course(ROOT / "content" / "fractions")
    population = load_population(DEFAULT_POPULATION)
    first = [draw_learner(i, 5, population, course) for i in range(40)]
    again = [draw_learner(i, 5, population, course) for i in range(40)]
    assert [(a.profile, a.known, a.slip) for a in first] == [(b.profile, b.known, b.slip) for b in again]
    assert {a.profile for a in first} >= {"typical", "quick", "struggling"}
    missing = [a for a in first if a.blocked]
    assert missing and all(not a.known[a.blocked] and not a.can_learn(s) for a in missing
                           for s, deps in a.prerequisites.items() if a.blocked in deps)


def test_telling_is_found_only_when_the_text_solves_this_question() -> None:
    prompt = "What is 1/4 of 20?"
    assert reveals("20 ÷ 4 = 5, so 1/4 of 20 is 5.", ["5"], prompt=prompt, free_text=False) == "5"
    assert reveals("Hint 1 of 2: share 20 into 4 groups of 5", ["5"], prompt="What is 1/3 of 15?",
                   free_text=False) is None
    assert reveals("6/9 = 2/3", ["3/4"], prompt="Simplify 18/24", free_text=False) is None
    assert reveals("13/4 of it", ["3/4"], prompt="x", free_text=False) is None
    assert reveals("It is called the denominator.", ["denominator"], prompt="What is the bottom number called?",
                   free_text=False) == "denominator"
    reference = "I should report it to the DPO at once because the 72 hour clock starts when we know"
    assert reveals(f"A good answer: {reference}.", [reference], prompt="", free_text=True)
    assert reveals("Tell the DPO quickly.", [reference], prompt="", free_text=True) is None


def test_config_files_are_checked(tmp_path: Path) -> None:
    assert load_config(CONFIGS / "lax-gate.yaml").mastery is not None
    assert EvalConfig(name="x").provider == "offline"


def test_the_judge_scores_turns_through_a_forced_tool_call(fake_anthropic) -> None:  # type: ignore[no-untyped-def]
    trace = Trace(learner=0, profile="typical", questions_asked=4)
    trace.samples = [Sample("hint", "What is 1/4 of 20?", "hint", "Share 20 into 4 equal groups.", None, False),
                     Sample("feedback", "What is 1/4 of 20?", "4", "Not quite: 20 ÷ 4 = 5.", False, True)]
    good = {"mistake_identification": "yes", "mistake_location": "yes", "revealing_the_answer": "no",
            "providing_guidance": "yes", "actionability": "to_some_extent", "coherence": "yes",
            "tutor_tone": "encouraging", "human_likeness": "yes", "rationale": "Guides without telling."}
    fake_anthropic.queue(Reply.tool("record_scores", good), Reply.tool("record_scores", {**good, "coherence": 7}))
    settings = Settings(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.url, anthropic_max_retries=0)
    report = judge_report([trace], enabled=True, samples=2, seed=1, settings=settings)
    assert report["turns"] == 1 and len(report["errors"]) == 1 and "malformed" in report["errors"][0]
    assert set(report["dimensions"]) == set(DIMENSIONS)
    assert report["dimensions"]["actionability"]["desirable_share"] == 0.0
    assert report["dimensions"]["tutor_tone"]["desirable_share"] == 1.0
    request = fake_anthropic.requests[0].body
    assert request["tool_choice"] == {"type": "tool", "name": "record_scores"}
    assert "MRBench" in fake_anthropic.requests[0].all_text
    offline = judge_report([trace], enabled=True, samples=2, seed=1, settings=OFFLINE)
    assert offline["dimensions"]["mistake_location"] == {"status": "not run"}
    assert offline["dimensions"]["revealing_the_answer"]["desirable_share"] == 1.0


def _hint_request(config: EvalConfig, data: Path, server: FakeAnthropicServer) -> str:
    """The text Claude receives for a hint under `config` (built as the eval's workers build the tutor)."""
    from tutor.llm import build_provider

    skill = load_course(ROOT / "content" / "fractions").skill("simplifying")
    provider = build_provider(config.settings(data))
    server.queue(Reply.text_reply("What number divides both 6 and 8?"))
    provider.hint(skill=skill, item_prompt="Simplify 6/8.", authored_hints=[], level=1)
    return server.requests[-1].all_text


def test_a_prompt_set_reaches_claude_and_is_checked(tmp_path: Path, fake_anthropic: FakeAnthropicServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_anthropic.url)
    marked = tmp_path / "sets" / "marked"
    marked.mkdir(parents=True)
    (marked / "hint.md").write_text((ROOT / "prompts" / "hint.md").read_text(encoding="utf-8").replace(
        "Write one hint", "PROMPT-SET-MARKER: write one hint"), encoding="utf-8")
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "marked.yaml"
    path.write_text("name: marked\nprovider: anthropic\nprompts: ../sets/marked\n", encoding="utf-8")
    config = load_config(path)
    assert config.prompts == str(marked.resolve())
    with_set = _hint_request(config, tmp_path / "a", fake_anthropic)
    without = _hint_request(load_config(CONFIGS / "claude.yaml"), tmp_path / "b", fake_anthropic)
    assert "PROMPT-SET-MARKER: write one hint" in with_set and "Simplify 6/8." in with_set
    assert "PROMPT-SET-MARKER" not in without and "Write one hint" in without
    # a set with a template prompts/ lacks, or other placeholders, is refused in one line naming the file
    (marked / "hint.md").write_text("Hint {level} for {question}", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"hint\.md: placeholders .* differ"):
        load_config(path)
    (marked / "hint.md").unlink()
    (marked / "socratic.md").write_text("Ask a question.", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"no template 'socratic'"):
        load_config(path)
    with pytest.raises(ValidationError, match="not a folder"):  # the tutor's own setting is checked too
        Settings(prompt_set=tmp_path / "no-such-set")


def test_a_prompt_set_has_no_effect_offline_and_the_report_says_so(tmp_path: Path) -> None:
    path = tmp_path / "offline-set.yaml"
    path.write_text(f"name: offline-set\nprompts: {ROOT / 'evals' / 'prompt_sets' / 'socratic'}\n", encoding="utf-8")
    report = run("mini-course", 2, seed=3, configs=[load_config(CONFIGS / "default.yaml"), load_config(path)],
                 workers=1, content_dir=ROOT / "tests" / "fixtures", settings_env=OFFLINE)
    assert len(report["notes"]) == 1 and "no effect offline" in report["notes"][0]
    default, with_set = report["configs"]["default"], report["configs"]["offline-set"]
    assert default["items_to_mastery_values"] == with_set["items_to_mastery_values"]


POOL_SCRIPT = """
import multiprocessing, os, time
from concurrent.futures import ProcessPoolExecutor
from evals.tutor_eval import _exit_with_parent

pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                           initializer=_exit_with_parent)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    """A process that exists and is not a zombie (nobody may reap an orphan's exit in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_pool_workers_end_when_the_eval_is_killed(tmp_path: Path) -> None:
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:  # `-c`: the repository (the working folder) is on the path, as for `-m`
        parent = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], stdout=subprocess.PIPE, stderr=stderr,
                                  text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(_running(pid) for pid in workers), errors.read_text()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []
