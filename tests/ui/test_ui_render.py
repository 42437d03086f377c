"""Pure helpers behind the pages: the skill map's DOT, progress parsing, and tables from eval reports."""

from __future__ import annotations

from dataclasses import dataclass

from ui import render


@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    status: str
    p_known: float
    prerequisites: tuple[str, ...] = ()


def test_skill_map_colours_each_skill_by_status_and_labels_it_with_its_estimate() -> None:
    dot = render.skill_map_dot(
        [
            Skill("meaning", "What a fraction means", "mastered", 0.97),
            Skill("equivalent", 'Equivalent "fractions"', "in_progress", 0.425, ("meaning",)),
            Skill("adding", "Adding", "locked", 0.2, ("equivalent", "not-in-course")),
        ],
        current="equivalent",
    )
    assert dot.startswith("digraph skills {") and dot.endswith("}")
    assert '"meaning" -> "equivalent";' in dot
    assert '"equivalent" -> "adding";' in dot
    assert "not-in-course" not in dot
    meaning = next(line for line in dot.splitlines() if line.strip().startswith('"meaning" ['))
    assert f'fillcolor="{render.STATUS_STYLES["mastered"].fill}"' in meaning and "97%" in meaning
    equivalent = next(line for line in dot.splitlines() if line.strip().startswith('"equivalent" ['))
    assert 'Equivalent\\n\\"fractions\\"\\n42%' in equivalent  # quotes escaped, estimate on its own line
    assert "penwidth=3" in equivalent  # the current skill stands out


def test_long_titles_wrap_in_the_node_label() -> None:
    label = render.skill_label("Adding and subtracting fractions with different denominators", 0.5)
    assert label.count("\\n") >= 3 and label.endswith("\\n50%")


def test_progress_lines_from_tqdm_and_plain_counters() -> None:
    assert render.progress_fraction("learners:  40%|####      | 20/50 [00:02<00:03, 9.1it/s]") == 0.4
    assert render.progress_fraction("simulating learner 3/4") == 0.75
    assert render.progress_fraction("wrote out.json") is None
    assert render.progress_fraction("ratio 5/0") is None


def test_json_tables_finds_keyed_rows_lists_and_scalars() -> None:
    report = {
        "seed": 7,
        "fractions": {
            "chunks": 40,
            "modes": {"dense": {"recall@1": 0.5, "mrr": 0.6}, "bm25": {"recall@1": 0.4, "mrr": 0.55}},
            "misses": [{"q": "why?", "rank": 3}],
            "unknown_labels": ["a", "b"],
        },
    }
    tables = dict(render.json_tables(report))
    assert tables["summary"] == [{"name": "seed", "value": 7}]
    assert tables["fractions"] == [{"name": "chunks", "value": 40}]
    assert tables["fractions › modes"] == [
        {"": "dense", "recall@1": 0.5, "mrr": 0.6},
        {"": "bm25", "recall@1": 0.4, "mrr": 0.55},
    ]
    assert tables["fractions › misses"] == [{"q": "why?", "rank": 3}]
    assert tables["fractions › unknown_labels"] == [{"value": "a"}, {"value": "b"}]


def test_decision_words_and_reasons() -> None:
    decision = {"status": "remediate", "p_known": 0.3, "reasons": ["Two misses in a row.", " "]}
    assert render.decision_summary(decision) == "Trying another explanation"
    assert render.decision_reasons(decision) == ["Two misses in a row."]
    assert render.decision_summary(None) is None and render.decision_reasons(None) == []


def test_citation_is_quoted_under_its_source() -> None:
    text = render.citation_markdown({"source": "meaning.md", "heading": "Parts", "text": "One.\n\nTwo."})
    assert text == "**meaning.md** › Parts\n\n> One.\n>\n> Two."


def test_leading_marks_give_way_to_icons() -> None:
    assert render.strip_leading_symbols("❌ Not quite.") == "Not quite."
    assert render.strip_leading_symbols("🎉 You've mastered **Halves**!") == "You've mastered **Halves**!"
    assert render.strip_leading_symbols("**Bold** start") == "**Bold** start"
    assert render.strip_leading_symbols("3/8 is right") == "3/8 is right"


def test_explanations_are_labelled_with_their_style() -> None:
    assert render.explanation_label({"kind": "explanation", "style": "definition"}) == "Explanation · definition"
    assert render.explanation_label({"kind": "remediation", "style": "worked_example"}) == (
        "Another explanation · worked example")
    assert render.explanation_label({"kind": "answer", "style": "definition"}) == "Answer"
    assert render.explanation_label({"kind": "feedback"}) is None


def test_a_decision_about_the_skill_just_mastered_is_not_shown_for_the_next_one() -> None:
    next_skill = Skill("equivalent", "Equivalent fractions", "in_progress", 0.2)
    assert not render.decision_is_current({"status": "mastered", "reasons": ["done"]}, next_skill)
    assert render.decision_is_current({"status": "practice", "reasons": ["2 more"]}, next_skill)
    assert not render.decision_is_current({"status": "practice", "skill_id": "meaning"}, next_skill)
    assert render.decision_is_current({"status": "practice", "skill_id": "equivalent"}, next_skill)
    assert not render.decision_is_current(None, next_skill)
