"""`tutor content new ID`: a small, valid course whose comments teach the format (course.yaml, one skill, an
item bank with multiple-choice and numeric items in two parallel forms, a source file in three styles)."""

from __future__ import annotations

import re
from pathlib import Path

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

COURSE_YAML = """\
# course.yaml: the course and its skills. Check it any time with `tutor content validate content/{id}`.
id: {id}                          # lowercase letters, digits, - and _; the folder's name
title: {title}                    # what learners see
description: >-
  One or two sentences for learners: what the course teaches and who it is for.
mastery: {{}}                      # the mastery rule; {{}} keeps the defaults (see README: course format)
skills:
  # One entry per skill, in teaching order. A skill opens when its prerequisites are mastered.
  - id: first-skill               # its items live in items/first-skill.yaml
    title: The first skill
    objectives:                   # one per line; a comma inside [a, b] would split an objective in two
      - Say what the first skill is about, as something a learner can do.
    prerequisites: []             # ids of skills to master first, e.g. [first-skill]
"""

ITEMS_YAML = """\
# items/first-skill.yaml: the item bank of one skill (the file is named after the skill's id).
# Give a skill at least 6 items in at least 2 parallel forms (A, B): after a re-explanation the tutor asks an
# item of the other form. Quote text that holds a comma, a colon or a number YAML could misread: "3/4".
skill: first-skill
items:
  - id: first-skill-a1            # unique in the course
    kind: multiple_choice         # multiple_choice | numeric | short_text | free_response
    form: A
    prompt: "Which of these is one half?"
    hints:                        # gentlest first; never the answer
      - "Half means one of two equal parts."
    explanation: "1/2 is one of two equal parts."   # the worked solution, shown after answering
    choices:
      - text: "1/2"
        correct: true
      - text: "2/1"
        feedback: "That is two wholes: the top and bottom numbers are swapped."
        misconception: swaps-numbers   # a tag: item analysis counts it; remediation aims at it
      - text: "1/3"
        feedback: "That is one of three equal parts."

  - id: first-skill-b1
    kind: multiple_choice
    form: B
    prompt: "Which of these is one quarter?"
    hints:
      - "A quarter is one of four equal parts."
    explanation: "1/4 is one of four equal parts."
    choices:
      - text: "1/4"
        correct: true
      - text: "4/1"
        feedback: "That is four wholes: the top and bottom numbers are swapped."
        misconception: swaps-numbers
      - text: "1/2"
        feedback: "That is one of two equal parts."

  - id: first-skill-a2
    kind: numeric
    form: A
    prompt: "What is half of 10?"
    hints:
      - "Share 10 into two equal groups."
    explanation: "10 shared into two equal groups gives 5 in each."
    answer: 5                     # a number, or text for a fraction: "3/4", "1 1/2"

  - id: first-skill-b2
    kind: numeric
    form: B
    prompt: "What is half of 14?"
    hints:
      - "Share 14 into two equal groups."
    explanation: "14 shared into two equal groups gives 7 in each."
    answer: 7

  - id: first-skill-a3
    kind: numeric
    form: A
    prompt: "Fill in the missing number: 1/2 = ?/4"
    hints:
      - "How many quarters make a half?"
    explanation: "Two quarters make a half, so 1/2 = 2/4."
    answer: 2                     # learners may also type the whole fraction 2/4, or 1/2 = 2/4

  - id: first-skill-b3
    kind: numeric
    form: B
    prompt: "Fill in the missing number: 1/3 = ?/6"
    hints:
      - "How many sixths make a third?"
    explanation: "Two sixths make a third, so 1/3 = 2/6."
    answer: 2
"""

SOURCE_MD = """\
---
skills: [first-skill]            # the skills this file teaches (a section may name others)
title: The first skill
---

# The first skill

## What it means
<!-- {{style: definition}} -->
Write the teaching material here, one idea per section. The tutor quotes sections when it explains and cites
them by file and heading; each section should make sense on its own.

## A worked example
<!-- {{style: worked_example}} -->
A section in another style gives the tutor something different to show when a learner needs a second
explanation. Styles: definition, worked_example, analogy, step_by_step, common_mistakes, visual, scenario, summary.

## Common mistakes
<!-- {{style: common_mistakes}} -->
Swapping the top and bottom numbers is the swaps-numbers mistake: 2/1 is two wholes, not one half. Name a mistake
with the words of its misconception tag, so a re-explanation can show the paragraph about the learner's mistake.

Another mistake: start each mistake with its own paragraph that says it is a mistake.
"""


class ScaffoldError(ValueError):
    """The course cannot be created (bad id, the folder exists)."""


def new_course(content_dir: Path, course_id: str, title: str | None = None) -> Path:
    """Write a new course folder `content_dir/course_id` and return it."""
    if not ID_PATTERN.match(course_id):
        raise ScaffoldError(f"course id {course_id!r}: use lowercase letters, digits, - and _ (e.g. algebra-1)")
    root = content_dir / course_id
    if root.exists():
        raise ScaffoldError(f"{root} already exists: pick another id, or edit that course")
    shown_title = title or course_id.replace("-", " ").replace("_", " ").capitalize()
    (root / "items").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "course.yaml").write_text(COURSE_YAML.format(id=course_id, title=shown_title), encoding="utf-8")
    (root / "items" / "first-skill.yaml").write_text(ITEMS_YAML, encoding="utf-8")
    (root / "sources" / "first-skill.md").write_text(SOURCE_MD.format(), encoding="utf-8")
    return root
