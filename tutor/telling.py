"""Not telling: whether a text would give away the answer to the question a learner is working on.

A pure rule the tutor applies before it shows anything while a question is open (for now: the source
passages it quotes in answer to a learner's question). A text gives the answer away when it contains:
- for a number (a numeric key, or a multiple-choice key that is a number): that number as a whole token,
  together with every number of the question, i.e. it works this very problem;
- for a word or phrase (a short-text key, a multiple-choice key): it as a whole token, when the question
  itself does not already contain it;
- for a free-text question: any run of 8 words of the model answer.
"""

from __future__ import annotations

import re

from tutor.course.models import FreeResponseItem, Item, MultipleChoiceItem, NumericItem, ShortTextItem
from tutor.course.templates import ItemInstance, show
from tutor.grading import expected_number, normalise_text

_NUMBER = re.compile(r"\d+(?:/\d+)?(?:\.\d+)?")
_RUN = 8


def _token(text: str, token: str) -> bool:
    pattern = r"(?<![\w/.])" + re.escape(token.strip().casefold()) + r"(?![\w/]|\.\d)"
    return re.search(pattern, text.casefold()) is not None


def keys(item: Item, instance: ItemInstance) -> list[str]:
    """The answer(s) to this question as a learner would write them."""
    if isinstance(item, MultipleChoiceItem):
        return [c.text for c in item.choices if c.correct]
    if isinstance(item, NumericItem):
        return [show(expected_number(item, instance).value)]
    if isinstance(item, ShortTextItem):
        return list(item.accepted)
    return [item.reference]


def gives_away(text: str, item: Item, instance: ItemInstance) -> bool:
    """Whether `text` contains the answer to this question (see the module docstring)."""
    if isinstance(item, FreeResponseItem):
        said = f" {normalise_text(text)} "
        words = normalise_text(item.reference).split()
        return any(f" {' '.join(words[i:i + _RUN])} " in said for i in range(max(1, len(words) - _RUN + 1)))
    for key in keys(item, instance):
        if not key.strip() or not _token(text, key):
            continue
        if _NUMBER.fullmatch(key.strip()):
            if all(_token(text, n) for n in _NUMBER.findall(instance.prompt)):
                return True
        elif not _token(instance.prompt, key):
            return True
    return False
