"""Sentence splitting for dense search (tutor.retrieval.sentences)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tutor.retrieval.sentences import sentences


def test_sentences_list_items_and_lines_are_split_and_fragments_dropped() -> None:
    text = (
        "Step 3. Keep the denominator: the answer is 4/8 of the bar. Dr. Smith checks it, e.g. by drawing it.\n\n"
        "- add the tops together\n- keep the bottom the same\n"
        "Is that all? Yes!"
    )
    assert sentences(text) == [
        "Keep the denominator: the answer is 4/8 of the bar.",
        "Dr. Smith checks it, e.g. by drawing it.",
        "- add the tops together",
        "- keep the bottom the same",
        "Is that all?",
    ]


def test_a_text_without_a_full_sentence_is_one_unit_and_blank_is_none() -> None:
    assert sentences("  Step 3.  ") == ["Step 3."]
    assert sentences("\n \n") == []


words = st.lists(st.sampled_from(["the", "half", "is", "one", "of", "two", "parts", "3/4", "Dr."]), min_size=1,
                 max_size=12)


@given(st.lists(words, min_size=1, max_size=8))
def test_every_word_of_the_kept_sentences_comes_from_the_text_in_order(parts: list[list[str]]) -> None:
    text = " ".join(" ".join(p) + "." for p in parts)
    found = " ".join(sentences(text)).split()
    source = text.split()
    position = 0
    for word in found:  # a subsequence: nothing invented, nothing reordered
        position = source.index(word, position) + 1
    assert sentences(text)
