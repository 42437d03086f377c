"""Simulated learners for the tutor eval: a hidden known/unknown state per skill, and plausible answers.

A population file (YAML, `evals/populations/*.yaml`) lists learner profiles and their shares. Each
simulated learner draws their own parameters around their profile (on the logit scale), keeps a hidden
known/unknown state per skill, learns from what the tutor shows them (a first explanation, an explanation
of a kind they have not seen yet, the feedback after an answer, a hint), and answers right or wrong from
that state (slips when they know, guesses when they don't). The tutor never sees any of this: it only
reads the messages the learner sends.

Answers are computed here, on the simulator's side, from the item and its seeded instance (the same
`tutor.course.templates.instantiate` and `tutor.grading` the tutor uses), never from anything the tutor
showed. A right answer is the key; a wrong one is plausible: a distractor tagged with a misconception
when there is one, a typical numeric slip, another term of the course, or a free-text answer that makes
fewer rubric points than needed to pass.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutor.course.models import (
    Course,
    FreeResponseItem,
    Item,
    MultipleChoiceItem,
    NumericItem,
    ShortTextItem,
)
from tutor.course.templates import ItemInstance, show
from tutor.grading import expected_number, grade_objective
from tutor.llm.base import required_points
from tutor.llm.offline import point_met

POPULATIONS_DIR = Path(__file__).resolve().parent / "populations"
DEFAULT_POPULATION = POPULATIONS_DIR / "default.yaml"


class PopulationError(ValueError):
    """A population file that cannot be used (the message names the file and field)."""


class ProfileSpec(BaseModel):
    """One kind of learner. Probabilities are the centre around which each learner draws their own."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    weight: float = Field(gt=0, description="share of the population (normalised over the file)")
    prior: float = Field(0.2, ge=0, le=1, description="chance a skill is known before the course")
    learn_explain: float = Field(0.3, ge=0, le=1, description="chance the first explanation of a skill teaches it")
    learn_reexplain: float = Field(
        0.3, ge=0, le=1, description="chance an explanation of a kind not seen before on the skill teaches it"
    )
    learn_practice: float = Field(0.15, ge=0, le=1, description="chance an answer and its feedback teach it")
    learn_hint: float = Field(0.05, ge=0, le=1, description="chance a hint teaches it")
    guess: float = Field(0.25, ge=0, le=1, description="right without knowing, multiple choice")
    guess_typed: float = Field(0.03, ge=0, le=1, description="right without knowing, number or typed answer")
    slip: float = Field(0.08, ge=0, le=1, description="wrong while knowing")
    hint_rate: float = Field(0.08, ge=0, le=1, description="chance of asking for a hint before answering")
    question_rate: float = Field(0.05, ge=0, le=1, description="chance of asking a question before answering")
    missing_prerequisite: bool = Field(
        False, description="one skill with dependants is unknown at the start and hard to learn"
    )


class Population(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    spread: float = Field(0.35, ge=0, le=3, description="sd of each learner's parameters on the logit scale")
    profiles: list[ProfileSpec] = Field(min_length=1)


def load_population(path: Path) -> Population:
    """Read and validate a population file; raise PopulationError with the file and field on bad input."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PopulationError(f"{path}: cannot read the population file ({exc.strerror}); check the path") from exc
    except yaml.YAMLError as exc:
        raise PopulationError(f"{path}: not valid YAML ({exc}); fix the syntax") from exc
    try:
        return Population.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PopulationError(f"{path}: [{where}] {first['msg']} (fix: see evals/populations/default.yaml)") from exc


# ---------------------------------------------------------------- a learner's hidden parameters


def _jitter(p: float, spread: float, rng: random.Random) -> float:
    if p <= 0.0 or p >= 1.0 or spread == 0:
        return p
    x = math.log(p / (1 - p)) + rng.gauss(0.0, spread)
    return 1 / (1 + math.exp(-x))


@dataclass
class SimLearner:
    """One simulated learner: hidden parameters and a hidden known/unknown state per skill."""

    index: int
    profile: str
    learn_explain: float
    learn_reexplain: float
    learn_practice: float
    learn_hint: float
    guess: float
    guess_typed: float
    slip: float
    hint_rate: float
    question_rate: float
    known: dict[str, bool]
    prerequisites: dict[str, tuple[str, ...]]
    blocked: str | None = None
    """The prerequisite this learner is missing (their profile's), or None."""
    styles_seen: dict[str, set[str]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    # ------------------------------------------------------------ learning

    def can_learn(self, skill: str) -> bool:
        """A skill can only be learnt once its prerequisites are known."""
        return all(self.known.get(p, False) for p in self.prerequisites.get(skill, ()))

    def _learn(self, skill: str, chance: float) -> None:
        if not self.known.get(skill, False) and self.can_learn(skill) and self.rng.random() < chance:
            self.known[skill] = True

    def read_explanation(self, skill: str, style: str | None) -> None:
        seen = self.styles_seen.setdefault(skill, set())
        style = style or "general"
        if not seen:
            chance = self.learn_explain
        elif style not in seen:
            chance = self.learn_reexplain
        else:
            chance = self.learn_practice  # the same kind again: no more than practice
        seen.add(style)
        self._learn(skill, chance)

    def read_feedback(self, skill: str) -> None:
        self._learn(skill, self.learn_practice)

    def read_hint(self, skill: str) -> None:
        self._learn(skill, self.learn_hint)

    # ------------------------------------------------------------ answering

    def answers_right(self, skill: str, item: Item) -> bool:
        if self.known.get(skill, False):
            return self.rng.random() >= self.slip
        if isinstance(item, MultipleChoiceItem):
            return self.rng.random() < self.guess
        return self.rng.random() < self.guess_typed


def draw_learner(index: int, seed: int, population: Population, course: Course) -> SimLearner:
    """Learner `index` of a run with `seed`: the same learner for every configuration of that run."""
    rng = random.Random(f"tutor-eval|{seed}|{index}")
    weights = [p.weight for p in population.profiles]
    profile = rng.choices(population.profiles, weights=weights, k=1)[0]
    spread = population.spread
    prerequisites = {s.id: tuple(s.prerequisites) for s in course.skills}
    known = {s.id: rng.random() < _jitter(profile.prior, spread, rng) for s in course.skills}
    blocked: str | None = None
    if profile.missing_prerequisite:
        with_dependants = [s.id for s in course.skills if any(s.id in deps for deps in prerequisites.values())]
        if with_dependants:
            blocked = rng.choice(with_dependants)
            known[blocked] = False
            for skill, deps in prerequisites.items():  # what builds on it was never learnt either
                if blocked in deps:
                    known[skill] = False
    return SimLearner(
        index=index,
        profile=profile.name,
        learn_explain=_jitter(profile.learn_explain, spread, rng),
        learn_reexplain=_jitter(profile.learn_reexplain, spread, rng),
        learn_practice=_jitter(profile.learn_practice, spread, rng),
        learn_hint=_jitter(profile.learn_hint, spread, rng),
        guess=_jitter(profile.guess, spread, rng),
        guess_typed=_jitter(profile.guess_typed, spread, rng),
        slip=_jitter(profile.slip, spread, rng),
        hint_rate=profile.hint_rate,
        question_rate=profile.question_rate,
        known=known,
        prerequisites=prerequisites,
        blocked=blocked,
        rng=rng,
    )


# ---------------------------------------------------------------- answer keys and plausible wrong answers


def answer_keys(item: Item, instance: ItemInstance) -> list[str]:
    """What counts as giving the answer away for this question: the key(s) or the model answer."""
    if isinstance(item, MultipleChoiceItem):
        return [c.text for c in item.choices if c.correct]
    if isinstance(item, NumericItem):
        key = expected_number(item, instance).value
        forms = {show(key)}
        if key.denominator != 1 and 10**6 % key.denominator == 0:
            forms.add(format(float(key), "g"))
        return sorted(forms)
    if isinstance(item, ShortTextItem):
        return list(item.accepted)
    return [item.reference]


def right_answer(item: Item, instance: ItemInstance) -> str:
    if isinstance(item, MultipleChoiceItem):
        return next(c.text for c in item.choices if c.correct)
    if isinstance(item, NumericItem):
        key = expected_number(item, instance).value
        return show(key) + (f" {item.units}" if item.units else "")
    if isinstance(item, ShortTextItem):
        if not item.accepted:
            raise ValueError(f"item {item.id}: a short-text item with only a pattern has no answer to give")
        return item.accepted[0]
    return item.reference


def _numeric_slips(key: Fraction) -> list[Fraction]:
    """Typical slips: off by one, a doubled or halved value, the reciprocal, top and bottom added across."""
    slips = [key + 1, key - 1, key * 2]
    if key.denominator != 1:
        slips += [Fraction(key.numerator + 1, key.denominator), Fraction(key.numerator, key.denominator + 1)]
    if key != 0:
        slips.append(1 / key)
    return [s for s in slips if s != key and s >= 0] or [key + 1]


def wrong_answer(item: Item, instance: ItemInstance, course: Course, rng: random.Random) -> str:
    """A plausible wrong answer, checked to be graded wrong (free text: fewer rubric points than needed)."""
    if isinstance(item, MultipleChoiceItem):
        tagged = [c.text for c in item.choices if not c.correct and c.misconception]
        others = [c.text for c in item.choices if not c.correct]
        return rng.choice(tagged if tagged and rng.random() < 0.75 else others)
    if isinstance(item, NumericItem):
        key = expected_number(item, instance).value
        for candidate in rng.sample(_numeric_slips(key), k=len(_numeric_slips(key))):
            text = show(candidate)
            if not grade_objective(item, text, instance).correct:
                return text
        return show(key + 7)
    if isinstance(item, ShortTextItem):
        terms = [t for items in course.items.values() for i in items if isinstance(i, ShortTextItem)
                 for t in i.accepted]
        wrong = [t for t in terms if not grade_objective(item, t, instance).correct]
        return rng.choice(wrong) if wrong else "I don't know"
    return _weak_free_text(item, rng)


def _weak_free_text(item: FreeResponseItem, rng: random.Random) -> str:
    """A sincere answer that makes some rubric points but fewer than the item needs to pass."""
    needed = required_points(item)
    points = [p for p in item.rubric if p.keywords]
    made = rng.sample(points, k=min(len(points), max(0, needed - 1), rng.randint(0, 1)))
    said = " and ".join(p.keywords[0] for p in made)
    candidates = [f"I think it is mainly about {said}, but I am not sure what else matters here."] if said else []
    candidates += ["I would probably just leave it and carry on, it doesn't seem like a big deal.",
                   "Not sure. Maybe ask someone nearby what they usually do?"]
    for text in candidates:
        if sum(point_met(p, text) for p in item.rubric) < needed:
            return text
    return "I don't know."


def compose_answer(learner: SimLearner, skill: str, item: Item, instance: ItemInstance, course: Course,
                   ) -> tuple[str, bool]:
    """The learner's answer to a question and whether it is meant to be right (decided from the hidden state)."""
    right = learner.answers_right(skill, item)
    if right:
        return right_answer(item, instance), True
    return wrong_answer(item, instance, course, learner.rng), False


def pick_question(questions: Sequence[str], learner: SimLearner, skill: str, title: str) -> str:
    """A learner question about the skill: a labelled one from the retrieval dataset, else about the title."""
    if questions:
        return learner.rng.choice(list(questions))
    return f"Can you explain {title.lower()} in a different way?"
