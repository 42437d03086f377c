"""Item instances: a template item becomes a fresh, seeded instance; a plain item is its own instance."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction

from tutor.course import expr
from tutor.course.models import Item, MultipleChoiceItem, NumericItem, Template

MAX_DRAWS = 2000
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    """A template that cannot produce an instance."""


@dataclass(frozen=True)
class ItemInstance:
    """What the learner is asked: the item's id and form, the rendered prompt, and the drawn parameters.

    `answer` is the key of a template instance (exact) and None for plain items (their key is on the item).
    It never leaves the server: the UI renders only `prompt` and the choices' texts.
    """

    item_id: str
    kind: str
    form: str
    prompt: str
    params: dict[str, str] = field(default_factory=dict)
    answer: Fraction | None = None
    choice_order: tuple[int, ...] = ()
    """For multiple choice: the order the choices are shown in (indexes into item.choices), seeded."""

    def shown_choices(self, item: Item) -> list[str]:
        """The choices' texts in the order the learner sees them."""
        if not isinstance(item, MultipleChoiceItem):
            return []
        return [item.choices[i].text for i in self.choice_order or range(len(item.choices))]


def show(value: Fraction | bool) -> str:
    """A value as a learner reads it: 3, 3/4 or -1/2."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def draw(template: Template, rng: random.Random) -> dict[str, Fraction]:
    """Draw parameters (and derived values) that satisfy every constraint and give an answer, or raise
    TemplateError. Draws that divide by zero anywhere are drawn again."""
    divided_by_zero = 0
    for _ in range(MAX_DRAWS):
        values: dict[str, Fraction] = {}
        for name, spec in template.params.items():
            if spec.values is not None:
                values[name] = Fraction(rng.choice(spec.values))
            else:
                assert spec.min is not None and spec.max is not None
                values[name] = Fraction(rng.randrange(spec.min, spec.max + 1, spec.step))
        stage = ""
        try:
            for name, source in template.derived.items():
                values[name] = _number(expr.evaluate(source, values), f"derived value {name!r}")
            if all(expr.evaluate(c, values) for c in template.constraints):
                stage = "answer expression: "
                expr.evaluate(template.answer, values)  # a draw whose answer divides by zero is drawn again
                return values
        except expr.ExpressionError as exc:
            if "division by zero" not in str(exc):
                raise TemplateError(stage + str(exc)) from None
            divided_by_zero += 1
    if divided_by_zero == MAX_DRAWS:
        raise TemplateError(f"every one of {MAX_DRAWS} draws divided by zero; keep divisors away from 0")
    raise TemplateError(
        f"no parameters satisfied the constraints ({'; '.join(template.constraints)}) in {MAX_DRAWS} draws; "
        "widen the ranges or relax the constraints"
    )


def _number(value: Fraction | bool, what: str) -> Fraction:
    if isinstance(value, bool):
        raise TemplateError(f"{what} is true/false, expected a number")
    return value


def render(prompt: str, values: dict[str, Fraction]) -> str:
    """Fill `{name}` placeholders; unknown names are an error."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"the prompt uses {{{name}}}, which is not a parameter or derived value")
        return show(values[name])

    return _PLACEHOLDER.sub(fill, prompt)


def instantiate(item: Item, seed: int) -> ItemInstance:
    """The instance of `item` for `seed`: the same seed always gives the same instance."""
    if isinstance(item, MultipleChoiceItem):
        order = list(range(len(item.choices)))
        random.Random(seed).shuffle(order)
        return ItemInstance(item_id=item.id, kind=item.kind, form=item.form, prompt=item.prompt,
                            choice_order=tuple(order))
    template = item.template if isinstance(item, NumericItem) else None
    if template is None:
        return ItemInstance(item_id=item.id, kind=item.kind, form=item.form, prompt=item.prompt)
    values = draw(template, random.Random(seed))
    try:
        answer = _number(expr.evaluate(template.answer, values), "the answer")
    except expr.ExpressionError as exc:
        raise TemplateError(f"answer expression: {exc}") from None
    return ItemInstance(
        item_id=item.id,
        kind=item.kind,
        form=item.form,
        prompt=render(item.prompt, values),
        params={name: show(value) for name, value in values.items()},
        answer=answer,
    )
