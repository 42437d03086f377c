"""Appending imported items to a bank file keeps the author's comments when it can."""

from __future__ import annotations

import yaml

from tutor.course.interchange.bank import bank_text, skill_and_form

NEW = [{"id": "s-q1", "kind": "short_text", "form": "A", "prompt": "Say yes.", "accepted": ["yes"]}]


def test_a_bank_ending_with_its_items_is_appended_to_and_keeps_comments() -> None:
    existing = "skill: s  # the skill\nitems:\n  # first item\n  - {id: s-a, kind: short_text, form: A, prompt: P, " \
               "accepted: [p]}\n"
    text = bank_text(existing, "s", NEW)
    assert text.startswith(existing.rstrip("\n"))
    assert "# first item" in text
    assert [i["id"] for i in yaml.safe_load(text)["items"]] == ["s-a", "s-q1"]


def test_a_bank_with_a_key_after_its_items_is_rewritten_with_every_item() -> None:
    existing = "items:\n  - {id: s-a, kind: short_text, form: A, prompt: P, accepted: [p]}\nskill: s\n"
    data = yaml.safe_load(bank_text(existing, "s", NEW))
    assert data["skill"] == "s" and [i["id"] for i in data["items"]] == ["s-a", "s-q1"]


def test_a_new_bank_names_its_skill() -> None:
    assert yaml.safe_load(bank_text(None, "s", NEW)) == {"skill": "s", "items": NEW}


def test_category_paths_name_skill_and_form() -> None:
    assert skill_and_form("$course$/top/Equivalent fractions") == ("Equivalent fractions", None)
    assert skill_and_form("$course$/top/Equivalent fractions/Form b") == ("Equivalent fractions", "B")
    assert skill_and_form("Default for Course 1/Adding") == ("Adding", None)
    assert skill_and_form("$course$/top") == (None, None)
    assert skill_and_form(None) == (None, None)
