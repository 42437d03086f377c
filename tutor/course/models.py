"""Pydantic models of the course format: course.yaml, items/<skill>.yaml and source front matter.

These are the boundary types: everything read from a course folder is validated here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80)]


class Strict(BaseModel):
    """Base for course-file models: unknown fields are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Style(StrEnum):
    """Kinds of explanation; alternate explanations differ in kind, not just wording."""

    DEFINITION = "definition"
    WORKED_EXAMPLE = "worked_example"
    ANALOGY = "analogy"
    STEP_BY_STEP = "step_by_step"
    COMMON_MISTAKES = "common_mistakes"
    VISUAL = "visual"
    SCENARIO = "scenario"
    SUMMARY = "summary"


class MasteryCriterion(Strict):
    """The gate's rule. Every field is optional in a file; unset fields inherit (skill <- course <- default)."""

    threshold: float = Field(0.98, gt=0, le=1, description="BKT p(known) needed")
    min_items: int = Field(3, ge=1, description="distinct items answered at least")
    window: int = Field(5, ge=1, description="recent attempts looked at")
    bar: float = Field(0.8, gt=0, le=1, description="accuracy needed over the window")
    max_consecutive_misses: int = Field(2, ge=1, description="misses in a row that trigger remediation")


class MasteryOverride(Strict):
    """A partial criterion, as written in course.yaml for a skill."""

    threshold: float | None = Field(None, gt=0, le=1)
    min_items: int | None = Field(None, ge=1)
    window: int | None = Field(None, ge=1)
    bar: float | None = Field(None, gt=0, le=1)
    max_consecutive_misses: int | None = Field(None, ge=1)

    def apply(self, base: MasteryCriterion) -> MasteryCriterion:
        return base.model_copy(update=self.model_dump(exclude_none=True))


class BKTParams(Strict):
    """Bayesian Knowledge Tracing parameters for one skill."""

    prior: float = Field(0.2, ge=0, le=1)
    learn: float = Field(0.15, ge=0, le=1)
    guess: float = Field(0.2, ge=0, lt=0.5)
    slip: float = Field(0.1, ge=0, lt=0.5)
    forget: float = Field(0.0, ge=0, le=1)


class BKTOverride(Strict):
    prior: float | None = Field(None, ge=0, le=1)
    learn: float | None = Field(None, ge=0, le=1)
    guess: float | None = Field(None, ge=0, lt=0.5)
    slip: float | None = Field(None, ge=0, lt=0.5)
    forget: float | None = Field(None, ge=0, le=1)


class GradingThresholds(Strict):
    """Where the free-text grader's probability that an answer is correct becomes a verdict.

    At or above `pass_at`: pass; at or below `fail_at`: fail; between: unsure, and the answer goes to a person.
    Unset fields take the defaults chosen on training data (tutor/freetext_model.json).
    """

    pass_at: float | None = Field(None, gt=0, lt=1)
    fail_at: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> GradingThresholds:
        if self.pass_at is not None and self.fail_at is not None and self.fail_at > self.pass_at:
            raise ValueError(f"fail_at ({self.fail_at}) is above pass_at ({self.pass_at})")
        return self


class Skill(Strict):
    id: Id
    title: str = Field(min_length=1)
    objectives: list[str] = Field(min_length=1, description="learning objectives, learner-facing")
    prerequisites: list[Id] = Field(default_factory=list)
    mastery: MasteryOverride | None = None
    bkt: BKTOverride | None = None


class CourseFile(Strict):
    """course.yaml."""

    id: Id
    title: str = Field(min_length=1)
    description: str = ""
    mastery: MasteryOverride = MasteryOverride()
    bkt: BKTOverride | None = None
    grading: GradingThresholds = GradingThresholds()
    skills: list[Skill] = Field(min_length=1)


# ---------------------------------------------------------------- items


class Choice(Strict):
    text: str = Field(min_length=1)
    correct: bool = False
    feedback: str | None = Field(None, description="shown when this choice is picked")
    misconception: Id | None = Field(None, description="tag of the misconception this distractor reveals")


class ParamRange(Strict):
    """An integer parameter drawn uniformly from min..max (inclusive) in steps, or from a list of values."""

    min: int | None = None
    max: int | None = None
    step: int = Field(1, ge=1)
    values: list[int] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ParamRange:
        if self.values is None and (self.min is None or self.max is None):
            raise ValueError("give either min and max, or values")
        if self.values is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either min and max, or values, not both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.values is not None and not self.values:
            raise ValueError("values must not be empty")
        return self


class Template(Strict):
    """Parameters and expressions that turn one item into fresh, seeded instances.

    `derived` values are computed in order from params and earlier derived values; the prompt may use
    any of them as {name}. `constraints` are boolean expressions every instance must satisfy.
    """

    params: dict[str, ParamRange] = Field(min_length=1)
    derived: dict[str, str] = Field(default_factory=dict)
    constraints: list[str] = Field(default_factory=list)
    answer: str = Field(min_length=1, description="expression giving the correct answer")


class ItemBase(Strict):
    id: Id
    form: str = Field(min_length=1, description="parallel-form label, e.g. A or B")
    prompt: str = Field(min_length=1)
    hints: list[str] = Field(default_factory=list, description="graded hints, gentlest first")
    explanation: str | None = Field(None, description="worked solution shown after answering")
    misconception: Id | None = Field(None, description="tag recorded when this item is answered wrongly")


class MultipleChoiceItem(ItemBase):
    kind: Literal["multiple_choice"]
    choices: list[Choice] = Field(min_length=2)


class NumericItem(ItemBase):
    kind: Literal["numeric"]
    answer: float | str | None = Field(
        None, description='a number, or an exact fraction or mixed number as text ("3/4", "1 1/2")'
    )
    tolerance: float = Field(0.0, ge=0, allow_inf_nan=False, description="absolute tolerance")
    units: str | None = Field(None, description="optional unit the learner may write after the number")
    allow_equivalent: bool = Field(True, description="accept 2/4 for 1/2")
    require_lowest_terms: bool = Field(False, description="a fraction answer must be fully simplified")
    template: Template | None = None


class ShortTextItem(ItemBase):
    kind: Literal["short_text"]
    accepted: list[str] = Field(default_factory=list)
    pattern: str | None = Field(None, description="regular expression matched against the whole answer")
    case_sensitive: bool = False


class RubricPoint(Strict):
    point: str = Field(min_length=1, description="what a good answer says")
    keywords: list[str] = Field(
        default_factory=list, description="words or phrases that evidence this point (offline grading)"
    )


class Example(Strict):
    """A labelled learner-style answer to a free-response item: the grader compares new answers with these."""

    answer: str = Field(min_length=1)
    correct: bool
    note: str | None = Field(None, description="why it is right or wrong (for authors and reviewers)")


class FreeResponseItem(ItemBase):
    kind: Literal["free_response"]
    reference: str = Field(min_length=1, description="a model answer")
    rubric: list[RubricPoint] = Field(min_length=1)
    pass_points: int | None = Field(None, ge=1, description="rubric points needed; default all but one")
    examples: list[Example] = Field(default_factory=list, description="labelled answers, right and wrong")


Item = Annotated[
    MultipleChoiceItem | NumericItem | ShortTextItem | FreeResponseItem, Field(discriminator="kind")
]


class ItemBankFile(Strict):
    """items/<skill-id>.yaml."""

    skill: Id
    items: list[Item] = Field(min_length=1)


# ---------------------------------------------------------------- sources


class SourceMeta(Strict):
    """Front matter of a source file, or a section directive `<!-- {skills: [..], style: ..} -->`."""

    skills: list[Id] | None = None
    style: Style | None = None
    title: str | None = None


class SourceSection(BaseModel):
    """One heading-delimited section of a source file with its resolved metadata."""

    model_config = ConfigDict(frozen=True)

    file: str
    heading_path: tuple[str, ...]
    text: str
    skills: tuple[str, ...]
    style: Style | None
    line: int


# ---------------------------------------------------------------- loaded course


class Course(BaseModel):
    """A loaded, validated course: what the rest of the tutor uses."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    description: str
    path: str
    mastery: MasteryCriterion
    bkt: BKTParams
    grading: GradingThresholds = GradingThresholds()
    skills: tuple[Skill, ...]
    items: dict[str, tuple[MultipleChoiceItem | NumericItem | ShortTextItem | FreeResponseItem, ...]]
    sources: tuple[SourceSection, ...]

    def skill(self, skill_id: str) -> Skill:
        for skill in self.skills:
            if skill.id == skill_id:
                return skill
        raise KeyError(f"course {self.id!r} has no skill {skill_id!r}")

    def criterion(self, skill_id: str) -> MasteryCriterion:
        override = self.skill(skill_id).mastery
        return override.apply(self.mastery) if override else self.mastery

    def skill_bkt(self, skill_id: str) -> BKTParams:
        override = self.skill(skill_id).bkt
        if override is None:
            return self.bkt
        return self.bkt.model_copy(update=override.model_dump(exclude_none=True))

    def item(self, item_id: str) -> MultipleChoiceItem | NumericItem | ShortTextItem | FreeResponseItem:
        for items in self.items.values():
            for item in items:
                if item.id == item_id:
                    return item
        raise KeyError(f"course {self.id!r} has no item {item_id!r}")
