"""The offline free-text grader: how likely an answer is to be right, as a person would grade it, and a verdict.

An answer is described by a few item-relative features (each comparable across items and courses):

- `keywords`: share of the rubric's points whose keyword phrases it contains, a negated mention not counting
  (tutor.llm.offline.point_met: "I would not tell the DPO", "the DPO doesn't need to know");
- `reference`: cosine similarity of its MiniLM embedding to the model answer's;
- `overlap`: share of the model answer's content words it uses (light stemming);
- `length`: its content words over the model answer's, capped at 1 (one-word answers are rarely right);
- `denied`: share of rubric points it mentions only to deny them ("the DPO doesn't need to know");
- `negation`: 1 when it negates something and the model answer negates nothing (the embedding hardly sees "not");
- with labelled examples of the item (authored, or answers a person reviewed) also `near_right` / `near_wrong`:
  its highest cosine to a right / a wrong example (the model answer counts as a right one), `right3` / `wrong3`
  the mean of its three highest, and `vote`: the similarity-weighted share of right answers among its nearest
  examples;
- and `lexical_margin`, the same comparison by words (answers to one question are lexically close to each
  other, and words catch what the embedding misses: a negation, a specific term): its highest Jaccard similarity
  of content words (light stemming, a negation counting as a word) to a right example minus its highest to a
  wrong one (`lexical_right` - `lexical_wrong`). A margin, not the two levels, because long answers share a
  smaller part of their words with anything: 0 means "no closer to either", whatever the answers' length.

A logistic model over these features, fitted and calibrated offline with scikit-learn on answers that people
graded (evals/fit_grader.py; the coefficients ship in freetext_model.json), turns them into the probability that
the answer is correct. `verdict` compares it with the course's thresholds: pass, fail, or unsure (a person grades
it). Nothing is fitted at run time, so grading is deterministic and needs no training data.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tutor.course.models import Example, FreeResponseItem, GradingThresholds
from tutor.llm.offline import content_stems, has_negation, point_met

Verdict = Literal["pass", "fail", "unsure"]
Vectors = npt.NDArray[np.float32]
Embed = Callable[[list[str]], Vectors]
"""Unit-length sentence embeddings, one row per text (MiniLMEmbeddingFunction.embed)."""

MODEL_FILE = Path(__file__).with_name("freetext_model.json")
BASE_FEATURES = ("keywords", "reference", "overlap", "length", "denied", "negation")
EXAMPLE_FEATURES = (*BASE_FEATURES, "near_right", "near_wrong", "right3", "wrong3", "vote",
                    "lexical_margin")
VOTE_NEIGHBOURS = 5
VOTE_TEMPERATURE = 0.05
"""Softmax temperature over cosines: the nearest examples count for much more than the fifth."""
NEGATED = "not"
"""The word standing for any negation in an answer's lexical terms ("isn't", "never", "no" all count as one)."""


class Coefficients(BaseModel):
    """One logistic model: p = 1 / (1 + exp(-(intercept + sum(weights * features))))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    pass_at: float = Field(gt=0, lt=1, description="default: probability at or above which an answer passes")
    fail_at: float = Field(gt=0, lt=1, description="default: probability at or below which an answer fails")
    decide_at: float = Field(0.5, gt=0, lt=1, description="where an answer passes when no one can review it")

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(w * values[name] for name, w in zip(self.features, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


class GraderModel(BaseModel):
    """freetext_model.json: the fitted coefficients, the default thresholds and where they came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    without_examples: Coefficients
    """For an item with no labelled examples."""
    with_examples: Coefficients
    fitted_on: str = Field(description="the data the coefficients and thresholds were chosen on")
    made_by: str = Field(description="the command that wrote this file")
    cross_validated: dict[str, float] = Field(default_factory=dict, description="figures on held-out questions")


@cache
def default_model() -> GraderModel:
    return GraderModel.model_validate_json(MODEL_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class FreeTextScore:
    """The grader's view of one answer."""

    probability: float
    """That a person would mark the answer correct."""
    coefficients: Coefficients
    """The model that scored it (its default thresholds apply unless the course sets its own)."""
    points_met: tuple[int, ...]
    """Rubric points whose keywords it contains (not negated)."""
    features: dict[str, float]
    reasons: tuple[str, ...]
    """Plain-words account of the probability, for the feedback and the review page."""


@dataclass(frozen=True)
class Thresholds:
    pass_at: float
    fail_at: float


def thresholds(course_grading: GradingThresholds | None, coefficients: Coefficients) -> Thresholds:
    """The course's thresholds, unset ones taking the defaults of the model that scored the answer."""
    grading = course_grading or GradingThresholds()
    pass_at = grading.pass_at if grading.pass_at is not None else coefficients.pass_at
    fail_at = grading.fail_at if grading.fail_at is not None else coefficients.fail_at
    return Thresholds(pass_at=pass_at, fail_at=min(fail_at, pass_at))


def verdict(probability: float, limits: Thresholds) -> Verdict:
    """pass at or above `pass_at`, fail at or below `fail_at`, unsure between (a person decides)."""
    if probability >= limits.pass_at:
        return "pass"
    if probability <= limits.fail_at:
        return "fail"
    return "unsure"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def lexical_terms(text: str) -> frozenset[str]:
    """The answer's content words, lightly stemmed, plus `NEGATED` when it negates something."""
    terms = content_stems(text)
    return frozenset(terms | {NEGATED} if has_negation(text) else terms)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return _share(len(a & b), len(a | b))


def _vote(similarities: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_], temperature: float) -> float:
    """The similarity-weighted share of right answers among the `VOTE_NEIGHBOURS` most similar examples."""
    nearest = np.argsort(-similarities, kind="stable")[:VOTE_NEIGHBOURS]
    weights = np.exp((similarities[nearest] - similarities[nearest[0]]) / temperature)
    return float((weights * labels[nearest]).sum() / weights.sum())


class FreeTextGrader:
    """Scores answers to free-response items. `embed` is the MiniLM embedding function's `embed`.

    Embeddings and lexical terms are kept per text (the model answer and examples of an item are embedded
    once); `warm` embeds many texts in one parallel batch, which the eval uses.
    """

    def __init__(self, embed: Embed, model: GraderModel | None = None, *, cache_size: int = 50_000) -> None:
        self._embed = embed
        self.model = model or default_model()
        self._vectors: dict[str, Vectors] = {}
        self._lexical: dict[str, frozenset[str]] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def warm(self, texts: Sequence[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if not missing:
            return
        rows = self._embed(missing)
        with self._lock:
            if len(self._vectors) + len(missing) > self._cache_size:
                self._vectors.clear()
            self._vectors.update(zip(missing, rows, strict=True))

    def _terms(self, text: str) -> frozenset[str]:
        terms = self._lexical.get(text)
        if terms is None:
            terms = lexical_terms(text)
            with self._lock:
                if len(self._lexical) >= self._cache_size:
                    self._lexical.clear()
                self._lexical[text] = terms
        return terms

    def _matrix(self, texts: Sequence[str]) -> Vectors:
        self.warm(texts)
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def features(self, item: FreeResponseItem, answer: str, examples: Sequence[Example] = ()) -> dict[str, float]:
        """The feature values of `answer` (see the module docstring); example features only with examples."""
        points = [i for i, point in enumerate(item.rubric) if point_met(point, answer)]
        mentioned = [i for i, point in enumerate(item.rubric) if point_met(point, answer, count_negated=True)]
        reference_words, answer_words = content_stems(item.reference), content_stems(answer)
        vectors = self._matrix([answer, item.reference, *(e.answer for e in examples)])
        cosines = (vectors[1:] @ vectors[0]).astype(np.float64)
        values = {
            "keywords": _share(len(points), len(item.rubric)),
            "reference": float(cosines[0]),
            "overlap": _share(len(reference_words & answer_words), len(reference_words)),
            "length": min(1.0, _share(len(answer_words), len(reference_words))),
            "denied": _share(len(mentioned) - len(points), len(item.rubric)),
            "negation": float(has_negation(answer) and not has_negation(item.reference)),
        }
        if examples:
            labels = np.array([True, *(e.correct for e in examples)])
            right, wrong = cosines[labels], cosines[~labels]
            values["near_right"] = float(right.max())
            values["near_wrong"] = float(wrong.max()) if wrong.size else 0.0
            values["right3"] = float(np.sort(right)[-3:].mean())
            values["wrong3"] = float(np.sort(wrong)[-3:].mean()) if wrong.size else 0.0
            values["vote"] = _vote(cosines, labels, VOTE_TEMPERATURE)
            terms = self._terms(answer)
            lexical = np.array([jaccard(terms, self._terms(text)) for text in (item.reference,
                                                                                *(e.answer for e in examples))])
            values["lexical_right"] = float(lexical[labels].max())
            values["lexical_wrong"] = float(lexical[~labels].max()) if wrong.size else 0.0
            values["lexical_margin"] = values["lexical_right"] - values["lexical_wrong"]
        return values

    def score(self, item: FreeResponseItem, answer: str, examples: Sequence[Example] | None = None) -> FreeTextScore:
        """The probability that `answer` is correct. `examples` default to the item's own (pass reviewed
        answers on top of them to learn from people's grades)."""
        labelled = list(item.examples if examples is None else examples)
        values = self.features(item, answer, labelled)
        coefficients = self.model.with_examples if labelled else self.model.without_examples
        probability = coefficients.probability(values)
        points = tuple(i for i, point in enumerate(item.rubric) if point_met(point, answer))
        return FreeTextScore(probability, coefficients, points, values, _reasons(item, values, points, len(labelled)))


def _reasons(item: FreeResponseItem, values: dict[str, float], points: tuple[int, ...], examples: int) -> tuple[
        str, ...]:
    said = [f"rubric points found by keyword: {len(points)} of {len(item.rubric)}",
            f"meaning close to the model answer: {values['reference']:.2f} (cosine)",
            f"model answer's words used: {values['overlap']:.0%}"]
    if examples:
        said.append(f"closest right example {values['near_right']:.2f}, closest wrong example "
                    f"{values['near_wrong']:.2f}; nearest examples {values['vote']:.0%} right ({examples} examples)")
        said.append(f"words shared with the closest right example {values['lexical_right']:.0%}, with the closest "
                    f"wrong example {values['lexical_wrong']:.0%} (Jaccard)")
    else:
        said.append("no labelled examples for this item yet")
    return tuple(said)
