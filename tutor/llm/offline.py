"""The offline provider: the embedded default when no API key is set. No model, no network.

- Explanations are extractive: the passage that best fits the requested style (and is not in a style
  already used) is shown whole and cited; when misconceptions are given, the paragraph that best
  addresses them is added from another passage. So a re-explanation in another style is different material.
- Questions are answered by quoting the paragraphs that share the most words with the question, with
  citations, or by saying plainly that the sources don't cover it.
- Free-response answers are graded transparently: a rubric point is met when one of its keyword phrases
  occurs in the answer (case-insensitive, light stemming, one-letter typos tolerated), and is not negated in
  its clause (a negation just before it, or a negated verb just after it) when the point itself is positive.
- Hints are the authored hints, gentlest first, or a nudge built from the skill objectives.
Framing sentences come from templates in prompts/offline/.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from tutor.course.models import Example, FreeResponseItem, RubricPoint, Skill, Style
from tutor.llm.base import (
    ANSWER_STYLE,
    Explanation,
    FreeResponseGrade,
    PassageLike,
    TextCallback,
    Usage,
)
from tutor.llm.prompts import render

if TYPE_CHECKING:
    from tutor.freetext import FreeTextGrader

MIN_QUESTION_COVERAGE = 0.3
"""Share of a question's content words a passage must contain to count as covering it."""

MAX_ANSWER_PARAGRAPHS = 2

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "between", "but", "by", "can", "could", "did",
        "do", "does", "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had",
        "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into",
        "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "of", "off",
        "on", "once", "only", "or", "other", "our", "out", "over", "own", "please", "she", "should",
        "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
        "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
        "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
        "your", "yours", "explain", "tell", "mean", "means", "thing", "things", "get", "got"
    }
)
_SUFFIXES = ("ing", "ed", "es", "s", "ly")
_STYLES = {style.value for style in Style}


# ---------------------------------------------------------------- text matching (pure)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(token: str) -> str:
    """A light stemmer: enough to match 'reporting', 'reported' and 'reports' to 'report'."""
    if token.isdigit() or len(token) <= 4:
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


def content_stems(text: str) -> set[str]:
    """Lightly stemmed content words of `text` (no stopwords)."""
    return _content_stems(text)


def has_negation(text: str) -> bool:
    """Whether `text` contains a negation word (not, no, never, n't, ...), "not only" aside."""
    tokens = _tokens(text)
    return any(t in _NEGATIONS and not (t == "not" and tokens[i + 1 : i + 2] == ["only"]) for i, t in enumerate(tokens))


def content_words(text: str) -> list[str]:
    """The content words of `text` in order, once each: no stopwords, 3+ letters or a number."""
    return list(dict.fromkeys(t for t in _tokens(text) if t not in _STOPWORDS and (len(t) >= 3 or t.isdigit())))


def _content_stems(text: str) -> set[str]:
    return {_stem(t) for t in _tokens(text) if t not in _STOPWORDS and (len(t) > 1 or t.isdigit())}


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _same_word(answer_token: str, keyword_token: str) -> bool:
    if answer_token == keyword_token or _stem(answer_token) == _stem(keyword_token):
        return True
    if answer_token.isdigit() or keyword_token.isdigit():
        return False
    return min(len(answer_token), len(keyword_token)) >= 5 and _edit_distance_at_most_one(
        answer_token, keyword_token
    )


_NEGATIONS = frozenset({"not", "no", "never", "cannot", "without", "neither", "nor", "none", "nothing", "t"})
"""Words that negate what follows them ("t" is what is left of n't: isn't, don't, wouldn't)."""
NEGATION_REACH = 3
"""How many words before a keyword a negation may stand and still negate it (within its clause)."""
_CLAUSE_BREAK = re.compile(r"[.;:!?,()\n]|\b(?:but|although|though|however|whereas)\b", re.IGNORECASE)


def _clauses(text: str) -> list[list[str]]:
    return [tokens for part in _CLAUSE_BREAK.split(text) if (tokens := _tokens(part))]


def _negated(tokens: Sequence[str], start: int) -> bool:
    """Whether a negation stands within NEGATION_REACH words before `start` ("not only" does not negate)."""
    for i in range(max(0, start - NEGATION_REACH), start):
        if tokens[i] in _NEGATIONS and not (tokens[i] == "not" and i + 1 < len(tokens) and tokens[i + 1] == "only"):
            return True
    return False


_AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "be", "does", "do", "did", "doesn", "don", "didn", "isn", "aren", "wasn", "weren",
     "should", "shouldn", "would", "wouldn", "will", "won", "can", "could", "couldn", "need", "needn", "must",
     "mustn", "has", "have", "hasn", "haven", "had", "hadn", "may", "might"}
)
_AFTER_NEGATIONS = frozenset({"not", "never", "cannot", "t"})


def _negated_after(tokens: Sequence[str], end: int) -> bool:
    """Whether the words right after a match deny it: "the DPO doesn't need to know", "72 hours is not needed",
    "the privacy team need not hear" (an auxiliary verb, then a negation)."""
    rest = list(tokens[end : end + 2])
    if rest and rest[0] in _AFTER_NEGATIONS:
        return True
    return len(rest) == 2 and rest[0] in _AUXILIARIES and rest[1] in _AFTER_NEGATIONS


def _phrase_at(phrase: Sequence[str], tokens: Sequence[str]) -> list[int]:
    """Every position where `phrase` occurs in `tokens` (word by word, as `_same_word` compares)."""
    width = len(phrase)
    if not width:
        return []
    return [
        start for start in range(len(tokens) - width + 1)
        if all(_same_word(tokens[start + k], phrase[k]) for k in range(width))
    ]


def point_met(point: RubricPoint, answer: str, *, count_negated: bool = False) -> bool:
    """Whether `answer` evidences a rubric point (`count_negated=True`: whether it mentions it at all).

    With keywords: any keyword phrase occurs (word by word, light stemming, one-letter typos allowed for
    words of 5+ letters). Without keywords: at least two thirds of the point's own content words occur.
    When the point itself states something positively, a match right after a negation in the same clause
    ("I would not tell the DPO", "it isn't personal data") or right before one ("the DPO doesn't need to know",
    "72 hours is not needed") does not count. A point that is itself negative
    ("cannot identify anyone") is matched without this check, so "can no longer identify anyone" still counts.
    """
    positive = not any(t in _NEGATIONS for t in _tokens(point.point))
    clauses = _clauses(answer)

    def found(phrase: Sequence[str]) -> bool:
        return any(
            count_negated
            or not (positive and (_negated(clause, start) or _negated_after(clause, start + len(phrase))))
            for clause in clauses for start in _phrase_at(phrase, clause)
        )

    if point.keywords:
        return any(found(_tokens(keyword)) for keyword in point.keywords)
    wanted = [t for t in dict.fromkeys(_tokens(point.point)) if t not in _STOPWORDS]
    return bool(wanted) and sum(1 for word in wanted if found([word])) >= math.ceil(len(wanted) * 2 / 3)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _misconception_stems(tags: Sequence[str]) -> set[str]:
    stems: set[str] = set()
    for tag in tags:
        stems |= _content_stems(tag.replace("-", " ").replace("_", " "))
    return stems


_NEW_MISTAKE = re.compile(r"\b(mistake|error|wrong)", re.IGNORECASE)


def mistake_part(text: str, tag: str) -> tuple[str, str]:
    """The part of a "common mistakes" text about one misconception, and the rest.

    The part starts at the paragraph that shares the most words with the tag and runs on until a paragraph that
    names another mistake. When no paragraph is about the tag, all of the text is the part and the rest is empty.
    """
    paragraphs = _paragraphs(text)
    stems = _misconception_stems([tag])
    hits = [len(_content_stems(p) & stems) for p in paragraphs]
    if not paragraphs or max(hits) < min(2, len(stems)):
        return text.strip(), ""
    start = hits.index(max(hits))
    end = start + 1
    while end < len(paragraphs) and not _NEW_MISTAKE.search(paragraphs[end]):
        end += 1
    part = "\n\n".join(paragraphs[start:end])
    rest = "\n\n".join(paragraphs[:start] + paragraphs[end:])
    return part, rest


def _label(passage: PassageLike) -> str:
    where = " › ".join(passage.heading_path) if passage.heading_path else passage.source
    return f"{where} ({passage.source})" if passage.heading_path else where


def _sources_line(cited: Sequence[PassageLike]) -> str:
    return render(
        "offline/sources", citations="; ".join(f"[{n}] {_label(p)}" for n, p in enumerate(cited, start=1))
    )


def _objectives(skill: Skill) -> str:
    return "; ".join(objective.rstrip(". ") for objective in skill.objectives)


def _emit(parts: Sequence[str], on_text: TextCallback | None) -> str:
    """Join parts into the final text, streaming them as chunks when a callback is given."""
    text = "\n\n".join(parts)
    if on_text is not None:
        for index, part in enumerate(parts):
            on_text(part if index == 0 else "\n\n" + part)
    return text


@dataclass(frozen=True)
class _Scored:
    score: float
    order: int
    passage: PassageLike


# ---------------------------------------------------------------- the provider


@cache
def shared_free_text_grader() -> FreeTextGrader:
    """The process's one default free-text grader. A provider is built per learner turn, so a grader per provider
    loaded the embedding model (and checked its digest) and embedded the rubric again at every free-text answer;
    this one loads it once and keeps the vectors of rubric points, model answers and examples."""
    from tutor.freetext import FreeTextGrader  # it uses this module's keyword matching
    from tutor.retrieval.embeddings import MiniLMEmbeddingFunction

    return FreeTextGrader(MiniLMEmbeddingFunction().embed)


class OfflineProvider:
    """Extractive, rule-based provider; fully deterministic."""

    name = "offline"

    def __init__(self, free_text: FreeTextGrader | None = None) -> None:
        """`free_text` grades free-response answers (default: tutor.freetext with the shipped MiniLM model, loaded
        on the first free-text answer)."""
        self._usage = Usage(provider="offline", model="extractive")
        self._grader = free_text

    def explain(
        self,
        *,
        course_title: str,
        skill: Skill,
        passages: Sequence[PassageLike],
        style: str,
        avoid_styles: Sequence[str] = (),
        misconceptions: Sequence[str] = (),
        on_text: TextCallback | None = None,
    ) -> Explanation:
        if not passages:
            text = _emit(
                [render("offline/no_passages", skill_title=skill.title, objectives=_objectives(skill))],
                on_text,
            )
            return Explanation(text=text, style=str(style), cited=(), usage=self._usage)

        targets = _misconception_stems(misconceptions)
        avoid = {str(s) for s in avoid_styles} - {str(style)}

        def score(passage: PassageLike) -> float:
            value = 0.0
            if passage.style == style:
                value += 4
            elif passage.style in avoid:
                value -= 3
            if targets:
                value += 2 * (len(_content_stems(passage.text) & targets) >= min(2, len(targets)))
                value += passage.style == Style.COMMON_MISTAKES
            return value

        ranked = sorted(
            (_Scored(score(p), i, p) for i, p in enumerate(passages)), key=lambda s: (-s.score, s.order)
        )
        primary = ranked[0].passage
        used_style = str(primary.style or style)
        cited: list[PassageLike] = [primary]
        intro_name = f"offline/intro_{used_style}" if used_style in _STYLES else "offline/intro_general"
        shown, more = primary.text.strip(), ""
        if misconceptions and primary.style == Style.COMMON_MISTAKES:
            shown, more = mistake_part(primary.text, misconceptions[0])  # the learner's own mistake first
        parts = [render(intro_name, skill_title=skill.title), f"{shown} [1]"]

        if targets and primary.style != Style.COMMON_MISTAKES:
            best: tuple[float, int, str, PassageLike] | None = None
            for order, passage in enumerate(passages):
                if passage.id == primary.id:
                    continue
                for paragraph in _paragraphs(passage.text):
                    hits = len(_content_stems(paragraph) & targets)
                    if hits < min(2, len(targets)):
                        continue
                    value = hits + 0.5 * (passage.style == Style.COMMON_MISTAKES)
                    if best is None or value > best[0] or (value == best[0] and order < best[1]):
                        best = (value, order, paragraph, passage)
            if best is not None:
                cited.append(best[3])
                parts.append(render("offline/mistake", paragraph=f"{best[2]} [2]"))

        parts.append(_sources_line(cited))
        text = _emit(parts, on_text)
        return Explanation(text=text, style=used_style, cited=tuple(p.id for p in cited), usage=self._usage,
                           more=more)

    def answer_question(
        self,
        *,
        skill: Skill,
        question: str,
        passages: Sequence[PassageLike],
        on_text: TextCallback | None = None,
    ) -> Explanation:
        wanted = _content_stems(question)
        found: list[tuple[float, int, int, str, PassageLike]] = []
        for order, passage in enumerate(passages):
            heading = " ".join(passage.heading_path)
            for position, paragraph in enumerate(_paragraphs(passage.text)):
                overlap = len(wanted & _content_stems(f"{heading} {paragraph}"))
                if wanted and overlap >= 1 and overlap / len(wanted) >= MIN_QUESTION_COVERAGE:
                    found.append((overlap / len(wanted), order, position, paragraph, passage))
        if not found:
            text = _emit(
                [render("offline/answer_not_covered", skill_title=skill.title, objectives=_objectives(skill))],
                on_text,
            )
            return Explanation(text=text, style=ANSWER_STYLE, cited=(), usage=self._usage)

        best = sorted(found, key=lambda f: (-f[0], f[1], f[2]))[:MAX_ANSWER_PARAGRAPHS]
        best.sort(key=lambda f: (f[1], f[2]))  # read in source order
        cited: list[PassageLike] = []
        quotes: list[str] = []
        for _score, _order, _position, paragraph, passage in best:
            if passage.id not in [p.id for p in cited]:
                cited.append(passage)
            number = [p.id for p in cited].index(passage.id) + 1
            quotes.append("> " + paragraph.replace("\n", "\n> ") + f" [{number}]")
        parts = [render("offline/answer_intro"), *quotes, _sources_line(cited)]
        text = _emit(parts, on_text)
        return Explanation(text=text, style=ANSWER_STYLE, cited=tuple(p.id for p in cited), usage=self._usage)

    def grade_free_response(
        self, *, item: FreeResponseItem, answer: str, examples: Sequence[Example] = ()
    ) -> tuple[FreeResponseGrade, Usage]:
        """Graded by the free-text grader (tutor.freetext): the probability that the answer is correct from
        keyword points, similarity to the model answer and to the labelled examples; passes at the model's
        `decide_at` (the tutor's thresholds then decide pass, fail or unsure). Feedback names the rubric points
        found and missed by keyword."""
        score = self._free_text().score(item, answer, list(examples))
        met = list(score.points_met)
        missed = [i for i in range(len(item.rubric)) if i not in met]
        correct = score.probability >= score.coefficients.decide_at

        def points(indexes: Sequence[int]) -> str:
            return "\n".join(f"- {item.rubric[i].point}" for i in indexes)

        if correct and not missed:
            feedback = render("offline/grade_all_met", met=points(met))
        elif correct:
            feedback = render("offline/grade_pass", met=points(met), missed=points(missed))
        else:
            feedback = render(
                "offline/grade_fail",
                total=len(item.rubric),
                count=len(met),
                missed=points(missed) or "- (every point is mentioned, but not in a way that answers the question)",
                reference=item.reference,
            )
        grade = FreeResponseGrade(points_met=met, correct=correct, feedback=feedback,
                                  confidence=round(score.probability, 4), reasons=list(score.reasons))
        return grade, self._usage

    def _free_text(self) -> FreeTextGrader:
        if self._grader is None:
            self._grader = shared_free_text_grader()
        return self._grader

    def hint(
        self,
        *,
        skill: Skill,
        item_prompt: str,
        authored_hints: Sequence[str],
        level: int,
        on_text: TextCallback | None = None,
    ) -> tuple[str, Usage]:
        if authored_hints:
            index = min(max(level, 1), len(authored_hints)) - 1
            text = render("offline/hint", level=index + 1, total=len(authored_hints), hint=authored_hints[index])
        else:
            objective = skill.objectives[(max(level, 1) - 1) % len(skill.objectives)]
            text = render("offline/hint_generic", objective=objective)
        return _emit([text], on_text), self._usage
