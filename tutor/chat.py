"""Terminal chat: the whole tutor loop in a terminal, streamed; also scriptable with piped stdin."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from tutor.session import SessionView, Tutor

QUIT = {"quit", "exit", ":q"}


_INLINE = re.compile(r"\*\*(?P<b1>[^*\n]+?)\*\*|__(?P<b2>[^_\n]+?)__|(?<![\w*])\*(?P<i1>[^*\s][^*\n]*?)\*(?![\w*])"
                     r"|(?<!\w)_(?P<i2>[^_\s][^_\n]*?)_(?!\w)|`(?P<c>[^`\n]+)`")
_BLOCK = re.compile(r"^(#{1,6}\s+|>\s?)")


def terminal_text(line: str) -> Text:
    """One line of the tutor's Markdown as terminal text: bold, italics and code styled, the markers gone;
    headings and quotes lose their marks (a quote is indented)."""
    block = _BLOCK.match(line)
    prefix = "  " if block and block.group(1).startswith(">") else ""
    rest = line[block.end():] if block else line
    text = Text(prefix)
    position = 0
    for match in _INLINE.finditer(rest):
        text.append(rest[position:match.start()])
        kind = next(k for k, v in match.groupdict().items() if v is not None)
        style = {"b": "bold", "i": "italic", "c": "cyan"}[kind[0]]
        text.append(match.group(kind), style=style)
        position = match.end()
    text.append(rest[position:])
    if block and block.group(1).startswith("#"):
        text.stylize("bold")
    return text


class TerminalWriter:
    """Writes the tutor's Markdown to a terminal a line at a time (so streamed replies still appear as they are
    written): styled with `rich` on an interactive terminal, plain text (markers stripped) when piped."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.console = Console(file=out, highlight=False, soft_wrap=True, emoji=False, markup=False,
                               force_terminal=None if out.isatty() else False)
        self._pending = ""

    def write(self, chunk: str) -> None:
        self._pending += chunk
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.console.print(terminal_text(line))

    def flush(self) -> None:
        if self._pending:
            self.console.print(terminal_text(self._pending), end="")
            self._pending = ""
        self.out.flush()


def render_item(item: dict[str, Any]) -> str:
    lines = []
    for i, choice in enumerate(item.get("choices", [])):
        lines.append(f"  {chr(ord('A') + i)}) {choice}")
    if item.get("units"):
        lines.append(f"  (answer in {item['units']})")
    return "\n".join(lines)


def render_events(events: Iterable[dict[str, Any]], out: TextIO) -> str:
    """Print streamed chunks as they come, and complete messages that were not streamed. Returns the material
    the last message held back for `more` ("" when none)."""
    held = ""
    writer = TerminalWriter(out)
    for event in events:
        if event.get("type") == "text":
            writer.write(event["text"])
        elif event.get("type") == "notice":
            writer.write(f"\n[notice] {event['text']}\n")
        elif event.get("type") == "message":
            message = event["message"]
            if not event.get("streamed"):
                writer.write(message["text"])
            if message.get("kind") == "item":
                choices = render_item(message.get("item", {}))
                if choices:
                    writer.write("\n" + choices)
            if message.get("more"):
                held = str(message["more"])
                writer.write("\n\n(The other common mistakes of this topic are held back; type `more` to read them.)")
            writer.write("\n\n")
        writer.flush()
    writer.flush()
    return held


def replay(view: SessionView, out: TextIO, last: int = 4) -> None:
    """On resume, show the last few messages so the learner sees where they were, then the open question again
    (always, however far back it was asked)."""
    writer = TerminalWriter(out)
    for message in view.messages[-last:]:
        who = "you" if message.get("role") == "learner" else "tutor"
        writer.write(f"[{who}] {message.get('text', '')}\n")
        if message.get("kind") == "item":
            choices = render_item(message.get("item", {}))
            if choices:
                writer.write(choices + "\n")
        writer.write("\n")
    if view.pending:
        writer.write(f"Your open question:\n{view.pending.get('prompt', '')}\n")
        choices = render_item(view.pending)
        if choices:
            writer.write(choices + "\n")
        writer.write("\n")
    writer.flush()


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
    held = render_events(tutor.start(learner_id, course_id), out)
    question_id = (tutor.view(learner_id, course_id).pending or {}).get("question_id")  # what this answer is to
    for text in lines(inp, out, interactive):
        if text.strip().lower() in QUIT:
            break
        if not interactive and text.strip():
            out.write(f"> {text}\n")
        if held and text.strip().lower() == "more":
            writer = TerminalWriter(out)
            writer.write(held + "\n\n")
            writer.flush()
            held = ""
            continue
        held = render_events(tutor.send(learner_id, course_id, text, question_id=question_id), out) or held
        view = tutor.view(learner_id, course_id)
        question_id = (view.pending or {}).get("question_id")
        if view.complete:
            break
    return 0
