"""Pedagogy judge: sampled tutor turns rated on MRBench's eight dimensions.

With an Anthropic API key, a model rates each sampled turn (a hint, an answer to a learner's question, the
feedback on a wrong answer) through a forced tool call whose input is validated by the pydantic model
`TurnScores`; the prompts are `prompts/judge_system.md`, `judge_turn.md` and `judge_tool.md`. Without a
key, only what can be computed without a model is reported: revealing the answer (the simulator knows
the key and checks every tutor message shown before the learner's first attempt), and the other seven
dimensions are marked "not run".
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.tutor_driver import Sample, Trace
from tutor.llm.prompts import render
from tutor.settings import Settings

TOOL = "record_scores"
Label = Literal["yes", "to_some_extent", "no"]
DIMENSIONS = ("mistake_identification", "mistake_location", "revealing_the_answer", "providing_guidance",
              "actionability", "coherence", "tutor_tone", "human_likeness")
DESIRABLE: dict[str, str] = {d: "yes" for d in DIMENSIONS} | {"revealing_the_answer": "no",
                                                                "tutor_tone": "encouraging"}


class TurnScores(BaseModel):
    """One tutor turn rated on MRBench's dimensions (the judge's tool input)."""

    model_config = ConfigDict(extra="forbid")

    mistake_identification: Label
    mistake_location: Label
    revealing_the_answer: Literal["yes_correct", "yes_incorrect", "no"]
    providing_guidance: Label
    actionability: Label
    coherence: Label
    tutor_tone: Literal["encouraging", "neutral", "offensive"]
    human_likeness: Label
    rationale: str = Field(max_length=600)


class JudgeError(RuntimeError):
    """The judge model did not return a usable rating."""


def _request(sample: Sample) -> str:
    verdict = {True: "right", False: "wrong", None: "not given yet (the learner asked for help)"}[sample.correct]
    return render("judge_turn", question=sample.item_prompt, learner=sample.learner_text.replace("<", "&lt;"),
                  kind=sample.kind, reply=sample.tutor_text.replace("<", "&lt;"), verdict=verdict)


def score_turn(client: Any, model: str, sample: Sample) -> TurnScores:
    """Rate one turn through a forced tool call; raise JudgeError on a missing or malformed rating."""
    from anthropic.types import ToolUseBlock

    message = client.messages.create(
        model=model,
        max_tokens=500,
        system=[{"type": "text", "text": render("judge_system"), "cache_control": {"type": "ephemeral"}}],
        tools=[{"name": TOOL, "description": render("judge_tool"), "input_schema": TurnScores.model_json_schema()}],
        tool_choice={"type": "tool", "name": TOOL},
        messages=[{"role": "user", "content": [{"type": "text", "text": _request(sample)}]}],
    )
    call = next((b for b in message.content if isinstance(b, ToolUseBlock) and b.name == TOOL), None)
    if call is None:
        raise JudgeError(f"{model} did not call {TOOL} (stop_reason={message.stop_reason})")
    try:
        return TurnScores.model_validate(call.input)
    except ValidationError as exc:
        raise JudgeError(f"{model} returned malformed scores: {exc.errors()[0]['msg']}") from exc


def sample_turns(traces: Sequence[Trace], n: int, seed: int) -> list[Sample]:
    pool = [s for t in traces for s in t.samples]
    return random.Random(f"judge|{seed}").sample(pool, k=min(n, len(pool)))


def _computed(traces: Sequence[Trace]) -> dict[str, Any]:
    """Revealing the answer, from the leak check over every tutor message before a first attempt."""
    questions = sum(t.questions_asked for t in traces)
    leaked = len({(t.learner, leak.item_id) for t in traces for leak in t.leaks})
    return {"source": "computed", "questions": questions, "revealed": leaked,
            "desirable_share": 1 - leaked / questions if questions else None}


def judge_report(traces: Sequence[Trace], *, enabled: bool, samples: int, seed: int,
                 settings: Settings | None = None) -> dict[str, Any]:
    """The judge's section of the report: per dimension, the share of desirable labels, or "not run"."""
    settings = settings or Settings()
    dimensions: dict[str, Any] = {d: {"status": "not run"} for d in DIMENSIONS}
    dimensions["revealing_the_answer"] = _computed(traces)
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    if not enabled or not key:
        reason = "disabled (--no-judge)" if not enabled else "offline: no API key; only computed dimensions"
        return {"status": reason, "model": None, "turns": 0, "dimensions": dimensions, "errors": []}
    import anthropic

    client = anthropic.Anthropic(api_key=key, base_url=settings.anthropic_base_url,
                                 timeout=settings.anthropic_timeout, max_retries=settings.anthropic_max_retries)
    model = settings.anthropic_fast_model
    scored: list[TurnScores] = []
    errors: list[str] = []
    chosen = sample_turns(traces, samples, seed)
    for sample in chosen:
        try:
            scored.append(score_turn(client, model, sample))
        except (JudgeError, anthropic.APIError) as exc:
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    for dimension in DIMENSIONS:
        labels = Counter(str(getattr(s, dimension)) for s in scored)
        if not scored:
            continue
        good = sum(1 for s in scored if str(getattr(s, dimension)) == DESIRABLE[dimension])
        entry: dict[str, Any] = {"source": "judge", "turns": len(scored), "labels": dict(labels),
                                 "desirable_share": good / len(scored)}
        if dimension == "revealing_the_answer":
            entry = {**entry, "computed": dimensions[dimension]}
        dimensions[dimension] = entry
    status = f"judged {len(scored)} of {len(chosen)} sampled turns" + (f" ({len(errors)} failed)" if errors else "")
    return {"status": status, "model": model, "turns": len(scored), "dimensions": dimensions, "errors": errors[:5],
            "rationales": [s.rationale for s in scored[:5]]}
