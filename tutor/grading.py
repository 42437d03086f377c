"""Checking objective answers, per item kind. Pure functions: values in, a Grade out.

Free-response answers are graded by the LLM provider (or the offline rubric comparison), not here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tutor.course import expr
from tutor.course.models import Item, MultipleChoiceItem, NumericItem, ShortTextItem
from tutor.course.templates import ItemInstance, show

_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_MIXED = re.compile(r"^(-?)(\d+)\s+(\d+)\s*/\s*(\d+)$")
_FRACTION = re.compile(r"^(-?\d+)\s*/\s*(-?\d+)$")
_DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?$")
MAX_NUMBER_LENGTH = 100  # longer input is not a number a learner means (and huge ones would be slow to parse)


@dataclass(frozen=True)
class Grade:
    correct: bool
    feedback: str
    misconception: str | None = None
    understood: bool = True
    """False when the answer could not be read as an answer (no such choice, not a number): the learner is
    asked again and nothing is recorded."""


@dataclass(frozen=True)
class Number:
    """A number as the learner wrote it: its exact value, and numerator/denominator if written as a fraction."""

    value: Fraction
    numerator: int | None = None
    denominator: int | None = None
    whole: int | None = None  # the whole part of a mixed number

    @property
    def in_lowest_terms(self) -> bool:
        if self.numerator is None or self.denominator is None:
            return True
        return math.gcd(self.numerator, self.denominator) == 1


def parse_number(text: str) -> Number | None:
    """Parse '3', '-0.75', '1,250', '3/4', '1 1/2'; None when it is not a number."""
    s = text.strip().replace("\u2212", "-")
    if len(s) > MAX_NUMBER_LENGTH:
        return None
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if m := _MIXED.match(s):
        sign, whole, num, den = m.groups()
        if int(den) == 0:
            return None
        value = int(whole) + Fraction(int(num), int(den))
        return Number(-value if sign else value, int(num), int(den), int(whole))
    if m := _FRACTION.match(s):
        num, den = int(m.group(1)), int(m.group(2))
        if den == 0:
            return None
        return Number(Fraction(num, den), abs(num), abs(den))
    if _DECIMAL.match(s):
        return Number(Fraction(s.lstrip("+")))
    return None


_APOSTROPHES = "'\u2019"


def normalise_text(text: str, *, case_sensitive: bool = False) -> str:
    """Lower-case (unless case-sensitive), drop apostrophes, turn other punctuation into spaces, collapse white space.

    Punctuation and symbols are recognised by Unicode category, so curly quotes and dashes from phone
    keyboards are treated like their ASCII forms.
    """
    chars = (
        "" if c in _APOSTROPHES else " " if unicodedata.category(c)[0] in "PS" else c
        for c in unicodedata.normalize("NFKC", text)
    )
    out = " ".join("".join(chars).split())
    return out if case_sensitive else out.lower()


def choice_index(item: MultipleChoiceItem, answer: str, order: Sequence[int] = ()) -> int | None:
    """Which choice (index into item.choices) an answer names: its exact text, its letter (a, b, ...) or number
    (1, 2, ...) in the order shown (`order`, default as authored), or its text up to punctuation.

    The exact text wins over position, so answering "3" picks the choice reading "3", and "-1/2" is not
    taken for "1/2".
    """
    shown = list(order) or list(range(len(item.choices)))
    exact = " ".join(answer.split()).casefold()
    for i, choice in enumerate(item.choices):
        if " ".join(choice.text.split()).casefold() == exact:
            return i
    s = answer.strip().rstrip(").").strip()
    if len(s) == 1 and "a" <= s.lower() <= "z" and ord(s.lower()) - ord("a") < len(shown):
        return shown[ord(s.lower()) - ord("a")]
    if s.isascii() and s.isdigit() and 1 <= int(s) <= len(shown):
        return shown[int(s) - 1]
    wanted = normalise_text(answer)
    matches = [i for i, choice in enumerate(item.choices) if normalise_text(choice.text) == wanted]
    return matches[0] if len(matches) == 1 else None


def grade_multiple_choice(item: MultipleChoiceItem, answer: str, order: Sequence[int] = ()) -> Grade:
    index = choice_index(item, answer, order)
    if index is None:
        letters = ", ".join(chr(ord("A") + i) for i in range(len(item.choices)))
        return Grade(False, f"Please pick one of the choices ({letters}).", None, understood=False)
    choice = item.choices[index]
    if choice.correct:
        return Grade(True, choice.feedback or "Correct.")
    return Grade(False, choice.feedback or "Not quite.", choice.misconception or item.misconception)


def expected_number(item: NumericItem, instance: ItemInstance | None) -> Number:
    """The key of a numeric item (or of its template instance) as a Number."""
    if instance is not None and instance.answer is not None:
        v = instance.answer
        return Number(v, v.numerator, v.denominator) if v.denominator != 1 else Number(v)
    if item.answer is None:
        raise ValueError(f"item {item.id} has neither an answer nor a template")
    if isinstance(item.answer, str):
        parsed = parse_number(item.answer)
    elif math.isfinite(item.answer):
        # YAML reads 0.1 as a float; str() gives its shortest form, so the key is exactly 1/10, not the binary value.
        parsed = Number(Fraction(str(item.answer)))
    else:
        parsed = None
    if parsed is None:
        raise ValueError(f"item {item.id}: answer {item.answer!r} is not a number")
    return parsed


def _strip_units(item: NumericItem, answer: str) -> tuple[str, bool]:
    """Remove the item's unit (or its plural) from the end of an answer; report a wrong unit."""
    s = answer.strip()
    if not item.units:
        return s, True
    unit = item.units.lower()
    lowered = s.lower()
    for form in (unit + "s", unit):
        rest = s[: len(s) - len(form)].rstrip()
        # "5 cm" must not pass as "5 c" + "m": what is left must not end in a letter.
        if lowered.endswith(form) and not (rest and rest[-1].isalpha()):
            return rest, True
    has_letters = bool(re.search(r"[a-zA-Z]\s*$", s))
    return s, not has_letters


_TERM = re.compile(r"(?:(\d+)\s+)?(\d+|\?)\s*/\s*(\d+|\?)")
_NUMBER_WORDS = {w: i for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"))}
_PART_NAMES = ("whole number", "numerator", "denominator")


@dataclass(frozen=True)
class Gap:
    """The blank of a missing-number prompt ("9/12 = 3/?"): the fraction with the blank, as (whole, numerator,
    denominator) with None for "?", and which part is asked."""

    parts: tuple[int | None, int | None, int | None]
    asked: int
    """Index into `parts` of the blank: 0 whole number, 1 numerator, 2 denominator."""
    has_whole: bool

    @property
    def part_name(self) -> str:
        return _PART_NAMES[self.asked]

    def filled(self, key: Fraction) -> tuple[int | None, int | None, int | None] | None:
        """The fraction with the key written into the blank; None when the key is not a whole number."""
        if key.denominator != 1:
            return None
        parts = list(self.parts)
        parts[self.asked] = int(key)
        return (parts[0], parts[1], parts[2])

    def show(self, key: Fraction) -> str:
        filled = self.filled(key)
        if filled is None:
            return ""
        whole, num, den = filled
        return f"{whole} {num}/{den}" if self.has_whole else f"{num}/{den}"


def find_gap(prompt: str) -> Gap | None:
    """The one fraction of a prompt written with a "?" in it (the missing number asked for), or None."""
    gaps = []
    for m in _TERM.finditer(prompt):
        raw = m.groups()
        if "?" not in raw or raw.count("?") > 1:
            continue
        parts = tuple(None if g in ("?", None) else int(g) for g in raw)
        gaps.append(Gap((parts[0], parts[1], parts[2]), raw.index("?"), raw[0] is not None))
    return gaps[0] if len(gaps) == 1 else None


def _strip_prompt_words(text: str, prompt: str) -> str:
    """Drop words after a number that only repeat the question's own words ("12 pupils", "3/8 of a cup")."""
    m = re.match(r"^(.*?[\d?])\s+([A-Za-z][A-Za-z\s]*)$", text)
    if m is None:
        return text
    prompt_words = set(normalise_text(prompt).split())
    words = normalise_text(m.group(2)).split()
    if all(w in prompt_words or w.rstrip("s") in prompt_words for w in words):
        return m.group(1)
    return text


def _read_number(text: str) -> Number | None:
    """A number as learners write it, also a number word up to twenty and a trailing full stop."""
    s = text.strip()
    word = normalise_text(s)
    if word in _NUMBER_WORDS:
        return Number(Fraction(_NUMBER_WORDS[word]))
    return parse_number(s) or (parse_number(s.rstrip(" .!")) if s.endswith((".", "!")) else None)


def _side_value(side: str) -> Fraction | None:
    """The value of one side of an equation the learner typed: a number or a small sum (3/9 + 4/9)."""
    if (n := _read_number(side)) is not None:
        return n.value
    source = side.replace("\u00d7", "*").replace("\u00f7", "/").replace("\u2212", "-")
    if not re.fullmatch(r"[\d\s/*+\-().]+", source):
        return None
    try:
        value = expr.evaluate(source, {})
    except expr.ExpressionError:
        return None
    return None if isinstance(value, bool) else value


def grade_numeric(item: NumericItem, answer: str, instance: ItemInstance | None = None) -> Grade:
    """Grade a numeric answer. Besides the number itself, learners may write the whole equation
    ("9/12 = 3/4"), or, for a missing-number item ("9/12 = 3/?"), the completed fraction ("3/4")."""
    prompt = instance.prompt if instance is not None else item.prompt
    text, unit_ok = _strip_units(item, answer)
    if not item.units:
        text = _strip_prompt_words(text, prompt)
    gap = find_gap(prompt)
    key = expected_number(item, instance)
    sides = [s.strip() for s in text.split("=")] if "=" in text else [text]
    if len(sides) > 1:
        values = [_side_value(s) for s in sides if s]
        if any(v is None for v in values) or len(values) != len(sides):
            return Grade(False, "Please answer with a number, like 3, 0.5, 3/4 or 1 1/2.", None, understood=False)
        if len(set(values)) > 1:
            return Grade(False, "Not quite: the two sides of your equation are not equal.", item.misconception)
    if gap is not None and (filled := gap.filled(key.value)) is not None:
        written = [n for n in map(_read_number, sides) if n is not None and n.denominator is not None]
        if written:
            return _gap_grade(item, gap, written, key.value, filled)
    given = _read_number(sides[-1])
    if given is None:
        if not unit_ok:
            return Grade(False, f"Give the answer in {item.units}.", None, understood=False)
        return Grade(False, "Please answer with a number, like 3, 0.5, 3/4 or 1 1/2.", None, understood=False)
    if key.numerator is not None and key.denominator is not None and not item.allow_equivalent:
        same = given.value == key.value and (given.numerator, given.denominator, given.whole) == (
            key.numerator, key.denominator, key.whole)
        if given.value == key.value and not same:
            return Grade(False, "That is equal in value, but the question asks for it in a particular form.")
        return _numeric(same, item, given)
    if item.tolerance > 0:
        # Exact: str() reads the tolerance as written (0.1, not its binary value); no float overflow on 1e999.
        close = abs(given.value - key.value) <= Fraction(str(item.tolerance))
    else:
        close = given.value == key.value
    if close and item.require_lowest_terms and not given.in_lowest_terms:
        return Grade(False, "Right value, but it can be simplified further: divide top and bottom by a common factor.")
    return _numeric(close and unit_ok, item, given)


def _gap_grade(item: NumericItem, gap: Gap, written: list[Number], key: Fraction,
               filled: tuple[int | None, int | None, int | None]) -> Grade:
    """A missing-number item answered with whole fractions (one, or the sides of an equation): right when one
    of them is the prompt's fraction with the right number in the blank."""
    for given in written:
        if (given.whole if gap.has_whole else None, given.numerator, given.denominator) == filled and (
                gap.has_whole or given.whole is None):
            return Grade(True, f"Correct: the missing {gap.part_name} is {show(key)} ({gap.show(key)}).")
    return Grade(False, f"Not quite. The question asks for the missing {gap.part_name}: the number that goes "
                        "in place of the ?.", item.misconception)


def _numeric(correct: bool, item: NumericItem, given: Number) -> Grade:
    if correct:
        return Grade(True, "Correct.")
    return Grade(False, "Not quite.", item.misconception)


_ARTICLE = re.compile(r"^(the|a|an) ", re.IGNORECASE)


def grade_short_text(item: ShortTextItem, answer: str) -> Grade:
    """Exact match after normalising, ignoring a leading article ("the bcc field" = "bcc field")."""
    given = _ARTICLE.sub("", normalise_text(answer, case_sensitive=item.case_sensitive))
    accepted = {_ARTICLE.sub("", normalise_text(a, case_sensitive=item.case_sensitive)) for a in item.accepted}
    ok = given in accepted
    if not ok and item.pattern:
        flags = 0 if item.case_sensitive else re.IGNORECASE
        ok = re.fullmatch(item.pattern, given, flags) is not None
    return Grade(True, "Correct.") if ok else Grade(False, "Not quite.", item.misconception)


SENTENCE_WORDS = 8  # a short-text answer is a word or a phrase; a message longer than this reads as a sentence


def reads_as_remark(item: ShortTextItem, text: str) -> bool:
    """Whether a chat message to a short-text item is a remark or question to the tutor rather than an answer: it
    is far longer than any answer the item accepts (more than SENTENCE_WORDS words and twice the longest)
    and not accepted. Short text is graded by exact match, so such a message could only be graded wrong; taking it
    as a question records nothing. The page's answer box is always graded."""
    longest = max((len(a.split()) for a in item.accepted), default=1)
    return len(text.split()) > max(SENTENCE_WORDS, 2 * longest) and not grade_short_text(item, text).correct


def grade_objective(item: Item, answer: str, instance: ItemInstance | None = None) -> Grade:
    """Grade an answer to a multiple-choice, numeric or short-text item."""
    if isinstance(item, MultipleChoiceItem):
        return grade_multiple_choice(item, answer, instance.choice_order if instance else ())
    if isinstance(item, NumericItem):
        return grade_numeric(item, answer, instance)
    if isinstance(item, ShortTextItem):
        return grade_short_text(item, answer)
    raise TypeError(f"{item.kind} items are graded against their rubric, not here")
