"""Streamlit rendering of the tutor conversation: transcript messages, a live turn, the pending item's form.

Only the public item payload is ever rendered (item_id, kind, form, prompt, choices, units): the tutor never
hands the page an answer key, and nothing here asks for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui import render

TUTOR_AVATAR = ":material/school:"
LEARNER_AVATAR = ":material/person:"
ANSWER_PLACEHOLDER = {
    "numeric": "a number or a fraction, e.g. 3/4, 1 1/2 or 0.75",
    "short_text": "a word or a short phrase",
}


def _avatar(role: str) -> tuple[str, str]:
    return ("user", LEARNER_AVATAR) if role == "learner" else ("assistant", TUTOR_AVATAR)


def render_sources(citations: Sequence[Mapping[str, str]], shown: str = "") -> None:
    """The passages an explanation used, behind an expander; a passage already quoted in `shown` (the message)
    is named, not repeated."""
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})", icon=":material/menu_book:"):
        for i, citation in enumerate(citations):
            if i:
                st.divider()
            st.markdown(render.citation_markdown(citation, quote=not render.already_shown(citation, shown)))


def render_body(message: Mapping[str, Any], *, streamed: bool = False) -> None:
    """The inside of one chat bubble. `streamed`: the text is already on the page (only add the extras)."""
    kind = message.get("kind", "")
    text = str(message.get("text", ""))
    if kind == "item":
        item = message.get("item") or {}
        st.markdown(f"**Question.** {item.get('prompt', text)}")
        choices = item.get("choices") or []
        if choices:
            st.markdown(render.choices_markdown(choices))
        if item.get("units"):
            st.caption(f"Answer in {item['units']}.")
        return
    label = render.explanation_label(message)
    if label:
        st.caption(label)
    if not streamed:
        if kind == "feedback":
            if message.get("correct"):
                st.success(render.strip_leading_symbols(text), icon=":material/check_circle:")
            else:
                st.error(render.strip_leading_symbols(text), icon=":material/cancel:")
        elif kind in ("mastered", "complete"):
            st.success(render.strip_leading_symbols(text), icon=":material/emoji_events:")
        elif kind == "notice":
            st.info(text, icon=":material/info:")
        elif kind == "hint":
            st.markdown(f":material/lightbulb: {text}")
        else:
            st.markdown(text)
    if message.get("more"):
        with st.expander("Other common mistakes", icon=":material/list:"):
            st.markdown(str(message["more"]))
    render_sources(message.get("citations") or [], text)


def render_transcript(messages: Sequence[Mapping[str, Any]], pending: Mapping[str, Any] | None) -> None:
    """Every message of the learner's session, oldest first, as chat bubbles.

    The pending question is left out: it is shown in the answer card below the conversation.
    """
    last_item = max((i for i, m in enumerate(messages) if m.get("kind") == "item"), default=-1)
    for i, message in enumerate(messages):
        if pending is not None and i == last_item:
            continue
        name, avatar = _avatar(str(message.get("role", "tutor")))
        with st.chat_message(name, avatar=avatar):
            if message.get("role") == "learner":
                st.markdown(render.plain_text(str(message.get("text", ""))))
            else:
                render_body(message)


class _Playback:
    """Walks a turn's events once, handing runs of text chunks to st.write_stream."""

    def __init__(self, events: Iterable[dict[str, Any]]) -> None:
        self._events: Iterator[dict[str, Any]] = iter(events)
        self._next: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            if self._next is not None:
                event, self._next = self._next, None
            else:
                following: dict[str, Any] | None = next(self._events, None)
                if following is None:
                    return
                event = following
            yield event

    def chunks(self, first: str) -> Iterator[str]:
        """The first chunk and the text chunks right after it; stops at the next other event."""
        yield first
        for event in self._events:
            if event.get("type") == "text":
                yield str(event.get("text", ""))
            else:
                self._next = event
                return


def play_turn(events: Iterable[dict[str, Any]]) -> int:
    """Show a turn as it happens: streamed text typed out, complete messages as they arrive.

    Returns how many events there were (0: the turn produced nothing, e.g. a session being resumed).
    """
    count = 0
    bubble = None
    playback = _Playback(events)
    for event in playback:
        count += 1
        if bubble is None:
            bubble = st.chat_message("assistant", avatar=TUTOR_AVATAR)
        with bubble:
            kind = event.get("type")
            if kind == "text":
                st.write_stream(playback.chunks(str(event.get("text", ""))))
            elif kind == "message":
                render_body(event["message"], streamed=bool(event.get("streamed")))
            elif kind == "notice":
                st.info(str(event.get("text", "")), icon=":material/info:")
            elif kind == "error":
                st.error(str(event.get("text", "")))
    return count


@dataclass(frozen=True)
class ItemAction:
    """What the learner did with the item form: an answer to send, or a command (hint, skip)."""

    text: str | None
    problem: str | None = None


def item_form(item: Mapping[str, Any], key: str) -> ItemAction | None:
    """The pending question and its answer widget, chosen by its kind, with Submit / Hint / Skip buttons."""
    kind = str(item.get("kind", ""))
    choices: list[str] = [str(c) for c in item.get("choices") or []]
    with st.form(f"item-{key}", clear_on_submit=True, border=True):
        st.caption(f"Question {item.get('item_id', '')}", help="Quote this when reporting a problem with a question.")
        st.markdown(str(item.get("prompt", "")))
        if item.get("units"):
            st.caption(f"Answer in {item['units']}.")
        answer: str | None
        if kind == "multiple_choice" and choices:
            index = st.radio(
                "Choose one answer",
                options=list(range(len(choices))),
                format_func=lambda i: f"{render.choice_letter(i)}.  {choices[i]}",
                index=None,
                key=f"answer-{key}",
            )
            answer = None if index is None else choices[index]
        elif kind in ("numeric", "short_text"):
            label = "Your answer" + (f" (in {item['units']})" if item.get("units") else "")
            answer = st.text_input(label, key=f"answer-{key}", placeholder=ANSWER_PLACEHOLDER[kind], max_chars=200)
        else:
            answer = st.text_area("Your answer", key=f"answer-{key}", placeholder="Write your answer in a few "
                                  "sentences.", max_chars=4000)
        left, middle, right = st.columns([2, 1, 1])
        with left:
            submitted = st.form_submit_button("Submit answer", type="primary", icon=":material/send:")
        with middle:
            hint = st.form_submit_button("Hint", icon=":material/lightbulb:")
        with right:
            skip = st.form_submit_button("Skip", icon=":material/skip_next:")
    if hint:
        return ItemAction("hint")
    if skip:
        return ItemAction("skip")
    if submitted:
        if answer is None or not str(answer).strip():
            return ItemAction(None, "Choose or type an answer first (or ask for a hint).")
        return ItemAction(str(answer).strip())
    return None
