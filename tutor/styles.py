"""Choosing the style of the next explanation (pure): alternate explanations differ in kind, not wording."""

from __future__ import annotations

from collections.abc import Collection, Sequence

FIRST_CHOICE = ("definition", "step_by_step", "worked_example", "summary", "scenario", "visual", "analogy")
REMEDIATION_ORDER = (
    "worked_example",
    "analogy",
    "visual",
    "step_by_step",
    "scenario",
    "common_mistakes",
    "definition",
    "summary",
)


def choose_style(available: Collection[str], shown: Sequence[str], *, misconceptions: Collection[str] = ()) -> str:
    """The style for the next explanation of a skill.

    First time: the most direct style the sources have. Afterwards: a style not shown yet, starting with
    common mistakes when the learner's wrong answers revealed misconceptions; when every style has been
    shown, the one shown longest ago.
    """
    if not available:
        return "definition"
    if not shown:
        return next((s for s in FIRST_CHOICE if s in available), sorted(available)[0])
    unseen = [s for s in available if s not in shown]
    if unseen:
        if misconceptions and "common_mistakes" in unseen:
            return "common_mistakes"
        return next((s for s in REMEDIATION_ORDER if s in unseen), sorted(unseen)[0])
    last_seen = {style: i for i, style in enumerate(shown)}
    return min(available, key=lambda s: last_seen.get(s, -1))
