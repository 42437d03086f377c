"""What mastery learning needs from a skill's content, and what is missing (pure; `tutor content coverage`).

Per skill: at least 2 parallel forms, each with enough items for the gate on its own (the skill's `min_items`),
at least 3 passages in at least 2 explanation styles (a re-explanation must differ in kind), a hint and a worked
explanation on every item, a misconception tag on every multiple-choice distractor, and labelled example answers
on every free-response item.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tutor.course.models import Course, FreeResponseItem, MultipleChoiceItem, Style

MIN_FORMS = 2
MIN_PASSAGES = 3
MIN_STYLES = 2


@dataclass(frozen=True)
class SkillCoverage:
    skill: str
    items: int
    items_per_form: dict[str, int]
    passages: int
    styles: tuple[str, ...]
    without_hints: tuple[str, ...]
    without_explanation: tuple[str, ...]
    untagged_distractors: int
    distractors: int
    free_response_without_examples: tuple[str, ...]
    gaps: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps


def _names(ids: tuple[str, ...], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def skill_coverage(course: Course, skill_id: str) -> SkillCoverage:
    items = course.items.get(skill_id, ())
    need = course.criterion(skill_id).min_items
    forms = Counter(i.form for i in items)
    passages = [s for s in course.sources if skill_id in s.skills]
    styles = tuple(sorted({s.style.value for s in passages if s.style}))
    mc = [i for i in items if isinstance(i, MultipleChoiceItem)]
    distractors = [c for i in mc for c in i.choices if not c.correct]
    untagged = sum(1 for c in distractors if not c.misconception)
    free = [i for i in items if isinstance(i, FreeResponseItem)]
    no_examples = tuple(i.id for i in free if not i.examples)
    result = SkillCoverage(
        skill=skill_id, items=len(items), items_per_form=dict(sorted(forms.items())), passages=len(passages),
        styles=styles, without_hints=tuple(i.id for i in items if not i.hints),
        without_explanation=tuple(i.id for i in items if not i.explanation), untagged_distractors=untagged,
        distractors=len(distractors), free_response_without_examples=no_examples,
    )
    gaps = result.gaps
    if len(forms) < MIN_FORMS:
        gaps.append(f"forms: {len(forms)} of {MIN_FORMS} (add items of a parallel form)")
    for form, count in sorted(forms.items()):
        if count < need:
            gaps.append(f"form {form}: {count} item(s), {need} needed for the gate on one form")
    if len(passages) < MIN_PASSAGES:
        gaps.append(f"passages: {len(passages)} of {MIN_PASSAGES}")
    if len(styles) < MIN_STYLES:
        lacking = [s.value for s in Style if s.value not in styles][:3]
        gaps.append(f"explanation styles: {len(styles)} of {MIN_STYLES} (e.g. add {', '.join(lacking)})")
    if result.without_hints:
        gaps.append(f"hints: {len(result.without_hints)} item(s) without ({_names(result.without_hints)})")
    if result.without_explanation:
        gaps.append(f"worked explanations: {len(result.without_explanation)} item(s) without "
                    f"({_names(result.without_explanation)})")
    if untagged:
        gaps.append(f"misconception tags: {untagged} of {len(distractors)} distractor(s) untagged")
    if no_examples:
        gaps.append(f"free-response examples: {len(no_examples)} item(s) without labelled example answers "
                    f"({_names(no_examples)})")
    return result


def course_coverage(course: Course) -> list[SkillCoverage]:
    return [skill_coverage(course, s.id) for s in course.skills]


def report_lines(course: Course, coverage: list[SkillCoverage]) -> list[str]:
    lines = [f"coverage of {course.id}: {sum(c.complete for c in coverage)} of {len(coverage)} skill(s) complete"]
    for c in coverage:
        forms = " ".join(f"{f}:{n}" for f, n in c.items_per_form.items()) or "-"
        lines.append(f"{c.skill}: {c.items} items (forms {forms}), {c.passages} passages "
                     f"(styles {', '.join(c.styles) or '-'})" + ("" if c.gaps else ": complete"))
        lines += [f"  missing {gap}" for gap in c.gaps]
    return lines
