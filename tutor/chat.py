"""Terminal chat: the whole tutor loop in a terminal, streamed; also scriptable with piped stdin."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from tutor.session import SessionView, Tutor

QUIT = {"quit", "exit", ":q"}


def render_item(item: dict[str, Any]) -> str:
    lines = []
    for i, choice in enumerate(item.get("choices", [])):
        lines.append(f"  {chr(ord('A') + i)}) {choice}")
    if item.get("units"):
        lines.append(f"  (answer in {item['units']})")
    return "\n".join(lines)


def render_events(events: Iterable[dict[str, Any]], out: TextIO) -> None:
    """Print streamed chunks as they come, and complete messages that were not streamed."""
    for event in events:
        if event.get("type") == "text":
            out.write(event["text"])
        elif event.get("type") == "notice":
            out.write(f"\n[notice] {event['text']}\n")
        elif event.get("type") == "message":
            message = event["message"]
            if not event.get("streamed"):
                out.write(message["text"])
            if message.get("kind") == "item":
                choices = render_item(message.get("item", {}))
                if choices:
                    out.write("\n" + choices)
            out.write("\n\n")
        out.flush()


def replay(view: SessionView, out: TextIO, last: int = 4) -> None:
    """On resume, show the last few tutor messages so the learner sees where they were."""
    for message in view.messages[-last:]:
        who = "you" if message.get("role") == "learner" else "tutor"
        out.write(f"[{who}] {message.get('text', '')}\n")
        if message.get("kind") == "item":
            choices = render_item(message.get("item", {}))
            if choices:
                out.write(choices + "\n")
        out.write("\n")


def lines(inp: TextIO, out: TextIO, interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = inp.readline()
        if not line:
            return
        yield line.rstrip("\n")


def run_chat(tutor: Tutor, course_id: str, learner_id: str, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Run the chat until EOF or `quit`. Returns an exit code."""
    course = tutor.course(course_id)
    interactive = inp.isatty()
    mode = "offline tutor (no ANTHROPIC_API_KEY set)" if tutor.offline else tutor.provider_name
    out.write(f"Mastery Tutor — {course.title} — learner {learner_id} — {mode}\n")
    out.write("Type an answer, ask a question, or: hint, skip, where am i, quit.\n\n")
    view = tutor.view(learner_id, course_id)
    if view.started:
        out.write("Welcome back! Here is where you left off:\n\n")
        replay(view, out)
    render_events(tutor.start(learner_id, course_id), out)
    question_id = (tutor.view(learner_id, course_id).pending or {}).get("question_id")  # what this answer is to
    for text in lines(inp, out, interactive):
        if text.strip().lower() in QUIT:
            break
        if not interactive and text.strip():
            out.write(f"> {text}\n")
        render_events(tutor.send(learner_id, course_id, text, question_id=question_id), out)
        view = tutor.view(learner_id, course_id)
        question_id = (view.pending or {}).get("question_id")
        if view.complete:
            break
    return 0
