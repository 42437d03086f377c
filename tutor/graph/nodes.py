"""Graph nodes: plain functions named by verbs that read state and return partial updates.

Nodes call the passage store, the LLM provider and the records repository from the run context; the
mastery decision itself is the gate's (tutor.mastery), a pure function over graded attempts.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from tutor import freetext, telling
from tutor.course.models import (
    Course,
    Example,
    FreeResponseItem,
    Item,
    MultipleChoiceItem,
    NumericItem,
    ShortTextItem,
    Skill,
)
from tutor.course.templates import ItemInstance, instantiate
from tutor.grading import choice_index, grade_objective, parse_number, reads_as_remark
from tutor.graph import progress as prog
from tutor.graph.routing import classify
from tutor.graph.state import Context, Message, PassageSource, TutorState
from tutor.llm.base import Explanation, PassageLike, Usage
from tutor.mastery import bkt, gate, select
from tutor.records.entries import Decision, GradedAnswer, Grader, IssuedQuestion, RecordedAttempt
from tutor.records.entries import Explanation as ShownExplanation
from tutor.records.entries import Usage as UsageEntry
from tutor.styles import choose_style

Update = dict[str, Any]


# ---------------------------------------------------------------- helpers


def _say(runtime: Runtime[Context], text: str) -> None:
    """Stream a chunk of learner-facing text as it is produced."""
    runtime.stream_writer({"type": "text", "text": text})


def _emit(runtime: Runtime[Context], message: Message, *, streamed: bool = False) -> list[Message]:
    """Send a complete transcript message to the front end (after its chunks, if it was streamed)."""
    runtime.stream_writer({"type": "message", "message": message, "streamed": streamed})
    return [message]


def _citations(passages: list[PassageLike], cited: tuple[str, ...]) -> list[dict[str, str]]:
    by_id = {p.id: p for p in passages}
    return [
        {"id": pid, "source": by_id[pid].source, "heading": " > ".join(by_id[pid].heading_path),
         "text": by_id[pid].text}
        for pid in cited
        if pid in by_id
    ]


def _record_usage(runtime: Runtime[Context], state: TutorState, purpose: str, usage: Usage) -> None:
    runtime.context.records.add_usage(UsageEntry(
        learner_id=state["learner_id"],
        course_id=state["course_id"],
        purpose=purpose,
        provider=usage.provider,
        model=usage.model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        created_at=runtime.context.clock(),
    ))


def _history(runtime: Runtime[Context], state: TutorState) -> list[RecordedAttempt]:
    """This learner's graded attempts in the course, from the ledger (what the gate and progress read)."""
    return runtime.context.records.history(runtime.context.course.id, state["learner_id"])


def _record_explanation(
    runtime: Runtime[Context], state: TutorState, skill_id: str, purpose: str, explanation: Explanation
) -> None:
    """Log what was shown (style, passages cited) and what it cost."""
    runtime.context.records.add_explanation(ShownExplanation(
        learner_id=state["learner_id"],
        course_id=runtime.context.course.id,
        skill_id=skill_id,
        purpose=purpose,
        style=explanation.style,
        passages=list(explanation.cited),
        provider=explanation.usage.provider,
        created_at=runtime.context.clock(),
    ))
    _record_usage(runtime, state, purpose, explanation.usage)


def public_item(item: Item, instance: ItemInstance) -> dict[str, Any]:
    """What the learner is shown of an item: never the key, the choices' correctness or feedback."""
    payload: dict[str, Any] = {"item_id": item.id, "kind": item.kind, "form": item.form, "prompt": instance.prompt}
    if isinstance(item, MultipleChoiceItem):
        payload["choices"] = instance.shown_choices(item)
    if isinstance(item, NumericItem) and item.units:
        payload["units"] = item.units
    return payload


def _item_seed(state: TutorState, item_id: str) -> int:
    return zlib.crc32(f"{state['learner_id']}|{item_id}|{state.get('turn', 0)}".encode())


# ---------------------------------------------------------------- nodes


def pick_skill(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Choose what to work on: a step back to a prerequisite, a due review, or the next unmastered skill."""
    course = runtime.context.course
    ledger = _history(runtime, state)
    progress = prog.from_ledger(course, ledger)
    choice = select.next_skill(course, prog.to_select(progress), now=runtime.context.clock(),
                               step_back_after=runtime.context.max_remediations)
    if choice is None:
        done: Update = {"progress": progress, "complete": True, "pending": None, "skill_id": None}
        if not state.get("complete"):
            text = f"You have mastered every skill in {course.title}. Well done!"
        elif state.get("inbox"):
            text = (f"You have mastered every skill in {course.title}, and no review is due yet. Ask me anything "
                    "about the course; reviews come back here when they are due.")
        else:
            return done  # the page was opened again: nothing new to say
        message: Message = {"role": "tutor", "kind": "complete", "text": text}
        return {**done, "messages": _emit(runtime, message)}
    mode = {"review": "review", "step_back": "step_back"}.get(choice.reason, "learn")
    reexplain = mode == "learn" and state.get("reexplain_skill") == choice.skill_id
    update: Update = {"progress": progress, "complete": False, "skill_id": choice.skill_id, "mode": mode,
                      "return_to": choice.from_skill, "reexplain": reexplain, "skipped": [], "hint_level": 0}
    if reexplain:
        update["reexplain_skill"] = None
    if choice.skill_id != state.get("skill_id"):
        # the last decision was about another skill: show this skill's own standing (kept across a step back)
        history = prog.skill_history(course, ledger, choice.skill_id)
        update["decision"] = prog.decision_dict(gate.decide(history, course.criterion(choice.skill_id),
                                                            course.skill_bkt(choice.skill_id))) if history else None
    skill = course.skill(choice.skill_id)
    intro = {
        "review": f"Time for a quick review of **{skill.title}**.",
        "step_back": f"Let's check a building block first: **{skill.title}**.",
    }.get(mode)
    if mode == "learn" and choice.skill_id != state.get("skill_id"):
        intro = f"Next skill: **{skill.title}**. Goal: " + " ".join(skill.objectives)
    if intro:
        message = {"role": "tutor", "kind": "status", "text": intro, "skill": choice.skill_id}
        update["messages"] = _emit(runtime, message)
    return update


def _explain(state: TutorState, runtime: Runtime[Context], *, purpose: str) -> Update:
    ctx = runtime.context
    skill_id = state["skill_id"]
    assert skill_id is not None
    skill = ctx.course.skill(skill_id)
    shown = state.get("shown", {}).get(skill_id, {"styles": [], "passages": []})
    passages = list(ctx.store.passages_for_skill(ctx.course.id, skill_id))
    fresh = [p for p in passages if p.id not in shown["passages"]] or passages
    misconceptions = list((state.get("decision") or {}).get("misconceptions", [])) if purpose == "remediate" else []
    style = choose_style({p.style for p in fresh if p.style}, shown["styles"], misconceptions=misconceptions)
    if purpose == "remediate":
        _say(runtime, "Let's look at this another way.\n\n")
    explanation: Explanation = ctx.provider.explain(
        course_title=ctx.course.title,
        skill=skill,
        passages=fresh,
        style=style,
        avoid_styles=shown["styles"],
        misconceptions=misconceptions,
        on_text=lambda chunk: _say(runtime, chunk),
    )
    _record_explanation(runtime, state, skill_id, purpose, explanation)
    new_shown = {
        "styles": [*shown["styles"], explanation.style],
        "passages": [*shown["passages"], *explanation.cited],
    }
    text = ("Let's look at this another way.\n\n" if purpose == "remediate" else "") + explanation.text
    message: Message = {
        "role": "tutor",
        "kind": "remediation" if purpose == "remediate" else "explanation",
        "text": text,
        "skill": skill_id,
        "style": explanation.style,
        "citations": _citations(fresh, explanation.cited),
    }
    if explanation.more:
        message["more"] = explanation.more
    history = prog.skill_history(ctx.course, _history(runtime, state), skill_id) if purpose == "remediate" else []
    return {
        "shown": {**state.get("shown", {}), skill_id: new_shown},
        "messages": _emit(runtime, message, streamed=True),
        "avoid_form": select.failed_form(history) if purpose == "remediate" else None,
        "reexplain": False,
    }


def explain(state: TutorState, runtime: Runtime[Context]) -> Update:
    """First explanation of a skill, grounded in its source passages, with citations."""
    return _explain(state, runtime, purpose="explain")


def remediate(state: TutorState, runtime: Runtime[Context]) -> Update:
    """An alternate explanation in a style not yet shown, aimed at the misconceptions the gate reported."""
    return _explain(state, runtime, purpose="remediate")


def ask(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Select the next item (parallel form after remediation), instantiate it and present it."""
    ctx = runtime.context
    skill_id = state["skill_id"]
    assert skill_id is not None
    items = list(ctx.course.items[skill_id])
    skipped = set(state.get("skipped", []))
    pool = [i for i in items if i.id not in skipped] or items
    ledger = _history(runtime, state)
    # no answer leaks into evidence: an item whose model answer or worked solution was shown is not asked again
    # (parallel items are), nor one whose answer waits for review; only if nothing else is left
    held = revealed_items(ctx.course, ledger) | ctx.records.pending_items(ctx.course.id, state["learner_id"])
    pool = [i for i in pool if i.id not in held] or pool
    if state.get("objective_first"):
        pool = [i for i in pool if not isinstance(i, FreeResponseItem)] or pool
    history = prog.skill_history(ctx.course, ledger, skill_id)
    seed = zlib.crc32(f"{state['learner_id']}|{skill_id}|{state.get('turn', 0)}".encode())
    missed = select.failed_item(history) if state.get("avoid_form") else None
    item = select.next_item(pool, history, avoid_form=state.get("avoid_form"), seed=seed,
                            avoid_like=ctx.course.item(missed) if missed in {i.id for i in items} else None)
    item_seed = _item_seed(state, item.id)
    instance = instantiate(item, item_seed)
    question_id = uuid.uuid4().hex
    mode = state.get("mode", "learn")
    ctx.records.issue_question(IssuedQuestion(  # in the ledger before the learner sees it
        question_id=question_id, learner_id=state["learner_id"], course_id=ctx.course.id, skill_id=skill_id,
        item_id=item.id, form=item.form, kind=item.kind, seed=item_seed, params=dict(instance.params), mode=mode,
        return_to=state.get("return_to") if mode == "step_back" else None, issued_at=ctx.clock(),
    ))
    payload = {"question_id": question_id, **public_item(item, instance)}
    message: Message = {"role": "tutor", "kind": "item", "text": instance.prompt, "skill": skill_id, "item": payload}
    return {
        "pending": payload,
        "instance": {"question_id": question_id, "item_id": item.id, "seed": item_seed},
        "hint_level": 0,
        "messages": _emit(runtime, message),
        "objective_first": False,
        "awaiting_review": False,
    }


def revealed_items(course: Course, ledger: list[RecordedAttempt]) -> set[str]:
    """Items whose answer the learner has seen: a wrong answer to a free-response item (the model answer is shown)
    or to any item with a worked solution. A template item's next instance has other numbers, so it stays."""
    shown: set[str] = set()
    for attempt in ledger:
        if attempt.correct:
            continue
        item = course.item(attempt.item_id)
        templated = isinstance(item, NumericItem) and item.template is not None
        if not templated and (isinstance(item, FreeResponseItem) or item.explanation):
            shown.add(item.id)
    return shown


def _deliver_reviews(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Results of answers a person has reviewed since the learner's last turn, and the gate's new decision on
    each skill they belong to."""
    ctx = runtime.context
    reviewed = ctx.records.unseen_reviews(ctx.course.id, state["learner_id"])
    if not reviewed:
        return {}
    ctx.records.mark_review_seen([r.question_id for r in reviewed])
    messages: list[Message] = []
    for answer in reviewed:
        verdict = "✅ correct" if answer.correct else "❌ not correct"
        text = f"A teacher reviewed your answer to question {answer.item_id} (\"{_short(answer.answer)}\"): {verdict}."
        messages += _emit(runtime, {"role": "tutor", "kind": "review", "text": text, "skill": answer.skill_id,
                                    "correct": answer.correct, "question_id": answer.question_id})
    ledger = _history(runtime, state)
    update: Update = {"progress": prog.from_ledger(ctx.course, ledger)}
    for skill_id in dict.fromkeys(r.skill_id for r in reviewed):
        decision = gate.decide(prog.skill_history(ctx.course, ledger, skill_id), ctx.course.criterion(skill_id),
                               ctx.course.skill_bkt(skill_id))
        last = next(r for r in reversed(reviewed) if r.skill_id == skill_id)
        ctx.records.add_decision(Decision(
            question_id=last.question_id, learner_id=state["learner_id"], course_id=ctx.course.id, skill_id=skill_id,
            status=decision.status, p_known=decision.p_known, reasons=list(decision.reasons),
            misconceptions=list(decision.misconceptions), created_at=ctx.clock(),
        ))
        if skill_id == state.get("skill_id"):
            update["decision"] = prog.decision_dict(decision)
        if decision.status == "mastered":
            text = f"🎉 With that review, you've mastered **{ctx.course.skill(skill_id).title}**!"
            messages += _emit(runtime, {"role": "tutor", "kind": "mastered", "text": text, "skill": skill_id})
    update["messages"] = messages
    return update


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wait(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Pause for the learner (checkpointed); on resume, classify their message."""
    received = interrupt({"type": "await_answer", "item": state.get("pending")})
    # the web page's answer box sends {"text": ..., "answer": true}; the chat box and the terminal send text
    as_answer = isinstance(received, dict) and bool(received.get("answer"))
    text = str(received.get("text", "")) if isinstance(received, dict) else str(received)
    handle = state.get("instance") or {}
    looks_like_answer = free_text = remark = False
    if handle:
        item = runtime.context.course.item(handle["item_id"])
        free_text = isinstance(item, FreeResponseItem)
        if isinstance(item, MultipleChoiceItem):
            order = instantiate(item, int(handle["seed"])).choice_order
            looks_like_answer = choice_index(item, text, order) is not None
        elif isinstance(item, NumericItem):
            looks_like_answer = parse_number(text.strip().split(" ")[0] if text.strip() else "") is not None
        elif isinstance(item, ShortTextItem):
            remark = reads_as_remark(item, text)
    if not text.strip():  # the page was opened again (a finished course looks for a due review)
        return {"inbox": "", "intent": "refresh"}
    intent = classify(text, looks_like_answer=looks_like_answer, free_text=free_text, as_answer=as_answer,
                      remark=remark)
    message: Message = {"role": "learner", "kind": intent, "text": text}
    update: Update = {"inbox": text, "intent": intent, "turn": state.get("turn", 0) + 1}
    delivered = _deliver_reviews(state, runtime)
    update.update({k: v for k, v in delivered.items() if k != "messages"})
    update["messages"] = [message, *delivered.get("messages", [])]
    return update


def _without_answer(skill: Skill, item: Item, instance: ItemInstance) -> Skill:
    """The skill without the objectives that name this question's answer (they are not material for a hint or
    an answer while the question is open)."""
    title = "this skill" if telling.gives_away(skill.title, item, instance) else skill.title
    objectives = [o for o in skill.objectives if not telling.gives_away(o, item, instance)]
    return skill.model_copy(update={"title": title, "objectives": objectives or [f"{title}."]})


GENERATED_HINTS = 3
"""Hints per question when the author wrote none (the provider writes them from the skill's objectives)."""


def hint(state: TutorState, runtime: Runtime[Context]) -> Update:
    """A graded hint: gentlest first, never the answer (the provider is never given the key). The last hint says
    it is the last; asking again says there are no more instead of repeating it."""
    ctx = runtime.context
    item = ctx.course.item(state["instance"]["item_id"])  # type: ignore[index]
    instance = instantiate(item, int(state["instance"]["seed"]))  # type: ignore[index]
    # an authored hint that states the answer is content to fix; until then it is not shown
    authored = tuple(h for h in item.hints if not telling.gives_away(h, item, instance))
    total = len(authored) or GENERATED_HINTS
    level = state.get("hint_level", 0) + 1
    skill_id = state.get("skill_id") or ""
    if level > total:
        text = (f"That was the last hint for this question ({_plural(total, 'hint')}). Give it your best try, "
                "or type `skip` for a different question.")
        return {"hint_level": total, "messages": _emit(runtime, {"role": "tutor", "kind": "hint", "text": text,
                                                                 "skill": skill_id})}
    text, usage = ctx.provider.hint(
        skill=_without_answer(ctx.course.skill(state["skill_id"]), item, instance),  # type: ignore[arg-type]
        item_prompt=(state.get("pending") or {}).get("prompt", item.prompt),
        authored_hints=authored,
        level=level,
        on_text=lambda chunk: _say(runtime, chunk),
    )
    if level == total:
        last = "\n\nThat was the last hint for this question."
        _say(runtime, last)
        text += last
    _record_usage(runtime, state, "hint", usage)
    message: Message = {"role": "tutor", "kind": "hint", "text": text, "skill": skill_id}
    return {"hint_level": level, "messages": _emit(runtime, message, streamed=True)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def skip(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Set the pending item aside (it counts neither way) and ask another."""
    item_id = (state.get("instance") or {}).get("item_id")
    text = "Okay, let's try a different question."
    return {
        "skipped": [*state.get("skipped", []), item_id] if item_id else state.get("skipped", []),
        "messages": _emit(runtime, {"role": "tutor", "kind": "status", "text": text}),
    }


def status(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Where am I: the current skill, the gate's reasons, and course progress."""
    text = status_text(runtime.context.course, state)
    return {"messages": _emit(runtime, {"role": "tutor", "kind": "status", "text": text})}


def status_text(course: Course, state: TutorState) -> str:
    """The "where am i" reply as Markdown: progress, the skill being learnt, its unmet requirements as a list, and
    the reminder of an open question as a paragraph of its own (blank lines end the list, so the reminder does not
    run on from the last reason)."""
    progress = state.get("progress", {})
    mastered = sum(1 for e in progress.values() if e.get("mastered"))
    skill_id = state.get("skill_id")
    blocks = [f"You have mastered {mastered} of {len(course.skills)} skills in {course.title}."]
    if skill_id:
        entry = progress.get(skill_id, {})
        blocks.append(f"Now working on **{course.skill(skill_id).title}** "
                      f"(mastery estimate {float(entry.get('p_known', 0)):.0%}).")
        reasons = [" ".join(str(r).split()) for r in (state.get("decision") or {}).get("reasons") or []]
        if any(reasons):
            blocks.append("\n".join(f"- {r}" for r in reasons if r))
    if state.get("pending"):
        blocks.append(STILL_OPEN + " Type `hint` or `skip` if you are stuck.")
    return "\n\n".join(blocks)


STILL_OPEN = "Your question is still open: answer it when you're ready."
"""Where the question is differs (below on the page, above in a terminal), so the wording does not say."""
QUESTION_DEPTH = 8  # passages of the whole course ranked for a question
QUESTION_PASSAGES = 3  # passages the answer is written from
SKILL_FAVOUR = 1.5  # how much a passage of the skill being learnt is favoured: about one place up the ranking


def question_passages(store: PassageSource, question: str, *, course: str, skill_id: str) -> list[PassageLike]:
    """The passages to answer a learner's question from: the whole course searched and ranked (the first few
    reranked by the store's cross-encoder, if it has one), a passage of the skill being learnt moved up a little
    (most questions are about it), never restricted to it, so a question about another skill finds that skill's
    material."""
    ranked = list(store.search(question, course=course, k=QUESTION_DEPTH, rerank=True))

    def score(rank: int, passage: PassageLike) -> float:
        favour = SKILL_FAVOUR if skill_id in getattr(passage, "skills", ()) else 1.0
        return favour / (rank + 1)

    order = sorted(range(len(ranked)), key=lambda i: -score(i, ranked[i]))
    return [ranked[i] for i in order[:QUESTION_PASSAGES]]


def answer_question(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Answer the learner's question from the course sources, with citations; the item stays pending."""
    ctx = runtime.context
    skill_id = state.get("skill_id") or ctx.course.skills[-1].id  # a finished course: any skill may be asked about
    passages = question_passages(ctx.store, state["inbox"], course=ctx.course.id, skill_id=skill_id)
    skill = ctx.course.skill(skill_id)
    handle = state.get("instance") or {}
    if state.get("pending") and handle:  # never quote the answer to the open question (no "telling")
        item = ctx.course.item(handle["item_id"])
        instance = instantiate(item, int(handle["seed"]))
        kept: list[PassageLike] = []
        def shown(p: PassageLike) -> str:  # what a quote of it shows: its headings and its text
            return "\n".join([*p.heading_path, p.text])

        for passage in passages:
            if not telling.gives_away("\n".join([*(shown(k) for k in kept), shown(passage)]), item, instance):
                kept.append(passage)
        passages = kept
        skill = _without_answer(skill, item, instance)
    answer = ctx.provider.answer_question(
        skill=skill,
        question=state["inbox"],
        passages=passages,
        on_text=lambda chunk: _say(runtime, chunk),
    )
    _record_explanation(runtime, state, skill_id, "answer", answer)
    reminder = "\n\n" + STILL_OPEN if state.get("pending") else ""
    _say(runtime, reminder)
    message: Message = {
        "role": "tutor",
        "kind": "answer",
        "text": answer.text + reminder,
        "skill": skill_id,
        "citations": _citations(passages, answer.cited),
    }
    return {"messages": _emit(runtime, message, streamed=True)}


def grade(state: TutorState, runtime: Runtime[Context]) -> Update:
    """Grade the answer and write it with its grade to the ledger (one transaction) before any feedback."""
    ctx = runtime.context
    skill_id = state["skill_id"]
    assert skill_id is not None and state.get("instance")
    handle = state["instance"] or {}
    item = ctx.course.item(handle["item_id"])
    instance = instantiate(item, int(handle["seed"]))
    answer = state["inbox"]
    grader: Grader = "rule"
    confidence: float | None = None
    reasons: tuple[str, ...] = ()
    if isinstance(item, FreeResponseItem):
        examples = [*item.examples, *(Example(answer=r.answer, correct=r.correct)
                                      for r in ctx.records.reviewed_examples(ctx.course.id, item.id))]
        result, usage = ctx.provider.grade_free_response(item=item, answer=answer, examples=examples)
        _record_usage(runtime, state, "grade", usage)
        grader = "offline" if usage.provider == "offline" else "llm"
        confidence = result.confidence if result.confidence is not None else float(result.correct)
        reasons = tuple(result.reasons)
        model = freetext.default_model()
        limits = freetext.thresholds(ctx.course.grading, model.with_examples if examples else model.without_examples)
        verdict = freetext.verdict(confidence, limits)
        if verdict == "unsure":
            return _send_to_review(state, runtime, answer=answer, grader=grader, confidence=confidence,
                                   reasons=reasons)
        correct, misconception = verdict == "pass", (None if verdict == "pass" else item.misconception)
        feedback = result.feedback if result.correct == correct else (
            "Your answer makes the key points." if correct else f"Not yet. A model answer: {item.reference}")
    else:
        g = grade_objective(item, answer, instance)
        if not g.understood:  # not an answer to this item: ask again, record nothing
            message: Message = {"role": "tutor", "kind": "status", "text": g.feedback, "skill": skill_id}
            return {"unread": True, "messages": _emit(runtime, message)}
        correct, feedback, misconception = g.correct, g.feedback, g.misconception
    text = ("✅ " if correct else "❌ ") + feedback
    if item.explanation and not correct:
        text += f"\n\nWorked solution: {item.explanation}"
    recorded = ctx.records.record_attempt(GradedAnswer(
        question_id=handle["question_id"], answer=answer, correct=correct, grader=grader, feedback=text,
        misconception=misconception, hints_used=state.get("hint_level", 0), created_at=ctx.clock(),
        confidence=confidence, reasons=reasons,
    ))
    feedback_message: Message = {"role": "tutor", "kind": "feedback", "text": recorded.feedback, "skill": skill_id,
                                 "correct": recorded.correct, "question_id": recorded.question_id}
    return {"pending": None, "messages": _emit(runtime, feedback_message), "avoid_form": None, "unread": False}


REVIEW_NOTICE = ("⏳ Thank you. Your answer is waiting for a teacher to review it; you will see the result here at "
                 "your next turn after the review. Meanwhile, here is another question.")


def _send_to_review(state: TutorState, runtime: Runtime[Context], *, answer: str, grader: Grader,
                    confidence: float, reasons: tuple[str, ...]) -> Update:
    """An unsure grade: recorded as waiting for a person (not evidence for the gate); the learner goes on."""
    ctx = runtime.context
    handle = state["instance"] or {}
    recorded = ctx.records.record_attempt(GradedAnswer(
        question_id=handle["question_id"], answer=answer, correct=False, grader=grader, feedback=REVIEW_NOTICE,
        hints_used=state.get("hint_level", 0), created_at=ctx.clock(), confidence=confidence, reasons=reasons,
        pending_review=True,
    ))
    message: Message = {"role": "tutor", "kind": "review", "text": recorded.feedback,
                        "skill": state.get("skill_id") or "", "question_id": recorded.question_id}
    return {"pending": None, "messages": _emit(runtime, message), "avoid_form": None, "unread": False,
            "awaiting_review": True, "objective_first": True}


class GateWithoutEvidence(RuntimeError):
    """The gate was reached for an answer that is not evidence in the ledger (a routing bug, never a learner's)."""


def _graded_attempt(state: TutorState, ledger: list[RecordedAttempt]) -> RecordedAttempt:
    """The attempt the gate decides after: the answer to the question just graded, which the decision is keyed
    on. Not the ledger's last attempt in general: if the just-graded answer is not evidence (an unsure free-text
    grade waiting for a person), that is another question's attempt, which already has its own decision."""
    question_id = (state.get("instance") or {}).get("question_id")
    for attempt in reversed(ledger):
        if attempt.question_id == question_id:
            return attempt
    raise GateWithoutEvidence(f"the gate was reached for question {question_id!r}, which has no graded answer in "
                              "the ledger (an answer waiting for review goes to another question, not to the gate)")


def decide(state: TutorState, runtime: Runtime[Context]) -> Update:
    """The gate: a deterministic decision over the ledger's graded attempts (never the LLM's opinion)."""
    ctx = runtime.context
    skill_id = state["skill_id"]
    assert skill_id is not None
    ledger = _history(runtime, state)
    last = _graded_attempt(state, ledger)
    decision = gate.decide(prog.skill_history(ctx.course, ledger, skill_id), ctx.course.criterion(skill_id),
                           ctx.course.skill_bkt(skill_id))
    now = ctx.clock()
    ctx.records.add_decision(Decision(
        question_id=last.question_id,
        learner_id=state["learner_id"],
        course_id=ctx.course.id,
        skill_id=skill_id,
        status=decision.status,
        p_known=decision.p_known,
        reasons=list(decision.reasons),
        misconceptions=list(decision.misconceptions),
        created_at=now,
        evidence=[r.question_id for r in ledger if r.skill_id == skill_id],
        criterion=ctx.course.criterion(skill_id).model_dump(),
        course_version=ctx.course_version,
    ))
    progress = prog.from_ledger(ctx.course, ledger)
    if decision.status == "mastered" and all(entry.get("mastered") for entry in progress.values()):
        _record_outcome(runtime, state, last.question_id, "", "completed", decision.p_known, kind="completed")
    update: Update = {"decision": prog.decision_dict(decision), "progress": progress}
    if decision.status == "remediate":
        update["reexplain_skill"] = skill_id
    if decision.status == "mastered":
        text = f"🎉 You've mastered **{ctx.course.skill(skill_id).title}**!"
        update["messages"] = _emit(runtime, {"role": "tutor", "kind": "mastered", "text": text, "skill": skill_id})
    else:
        text = "; ".join(decision.reasons[:2])
        update["messages"] = _emit(runtime, {"role": "tutor", "kind": "status", "text": text, "skill": skill_id})
    return update


def _record_outcome(runtime: Runtime[Context], state: TutorState, question_id: str, skill_id: str, status: str,
                    p_known: float, *, kind: str) -> None:
    """A review's outcome (the mastery kept or revoked) or the course completed, beside the gate's decisions."""
    ctx = runtime.context
    ctx.records.add_decision(Decision(
        question_id=question_id, learner_id=state["learner_id"], course_id=ctx.course.id, skill_id=skill_id,
        status=status, p_known=p_known, reasons=[], misconceptions=[], created_at=ctx.clock(),
        criterion=ctx.course.criterion(skill_id).model_dump() if skill_id else {},
        course_version=ctx.course_version, kind=kind,
    ))


def review(state: TutorState, runtime: Runtime[Context]) -> Update:
    """After a review or a prerequisite check: a pass schedules the next review; a fail reopens the skill.

    The schedule itself is replayed from the ledger (progress.from_ledger); this node says what happens next."""
    ctx = runtime.context
    skill_id = state["skill_id"]
    assert skill_id is not None
    ledger = _history(runtime, state)
    last = [r for r in ledger if r.skill_id == skill_id][-1]
    progress = prog.from_ledger(ctx.course, ledger)
    p_known = float(progress[skill_id].get("p_known", 0.0))
    _record_outcome(runtime, state, last.question_id, skill_id, "review_passed" if last.correct else "revoked",
                    p_known, kind="review")
    update: Update = {"progress": progress}
    came_from = state.get("return_to")
    if last.correct:
        if state.get("mode") == "step_back" and came_from:
            update["reexplain_skill"] = came_from
        return update
    text = f"Let's refresh **{ctx.course.skill(skill_id).title}** before moving on."
    update["reexplain_skill"] = skill_id
    history = prog.skill_history(ctx.course, ledger, skill_id)
    misconceptions = (last.misconception,) if last.misconception else ()
    p_known = float(progress[skill_id].get("p_known", 0.0))
    distinct = len({a.item_id for a in history if a.correct})
    params = bkt.params_for_kind(ctx.course.skill_bkt(skill_id), history[-1].kind, history[-1].chance)
    reasons, needed = gate.explain(
        "remediate", p_known, distinct, [a.correct for a in history], ctx.course.criterion(skill_id), params,
        trigger="a review answer was wrong, so this skill is open again", misconceptions=misconceptions)
    update["decision"] = prog.decision_dict(gate.GateDecision(
        status="remediate", p_known=p_known, reasons=reasons, misconceptions=misconceptions,
        distinct_items=distinct, recent_accuracy=None, answers_needed=needed))
    update["messages"] = _emit(runtime, {"role": "tutor", "kind": "status", "text": text, "skill": skill_id})
    return update
