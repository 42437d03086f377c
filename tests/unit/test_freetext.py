"""The free-text grader: features, the shipped coefficients, thresholds and verdicts (real MiniLM model)."""

from __future__ import annotations

import pytest

from tutor.course.models import Example, FreeResponseItem, GradingThresholds, RubricPoint
from tutor.freetext import (
    EXAMPLE_FEATURES,
    NEGATED,
    FreeTextGrader,
    default_model,
    jaccard,
    lexical_terms,
    thresholds,
    verdict,
)
from tutor.retrieval.embeddings import MiniLMEmbeddingFunction

ITEM = FreeResponseItem(
    kind="free_response", id="breach", form="A",
    prompt="A laptop with customer records was stolen from your car. What do you do first, and why?",
    reference="Report it to the privacy team or DPO at once, because a breach may have to be notified to the "
              "regulator within 72 hours.",
    rubric=[RubricPoint(point="Report internally at once.", keywords=["dpo", "privacy team", "report"]),
            RubricPoint(point="The 72-hour deadline.", keywords=["72 hours", "72-hour", "three days"])],
    examples=[
        Example(answer="Tell our data protection officer straight away; the authority may need to hear within "
                       "three days.", correct=True),
        Example(answer="Let the privacy people know immediately so they can decide about informing the "
                       "regulator in time.", correct=True),
        Example(answer="Phone data protection right now, the clock for notifying the supervisor is short.",
                correct=True),
        Example(answer="Wait until Monday and see if the laptop turns up.", correct=False),
        Example(answer="The privacy team doesn't need to know; it was only one laptop.", correct=False),
        Example(answer="Buy a new laptop and restore the files from backup.", correct=False),
    ],
)


@pytest.fixture(scope="module")
def grader() -> FreeTextGrader:
    return FreeTextGrader(MiniLMEmbeddingFunction().embed)


def test_the_shipped_model_loads_and_names_its_training_data() -> None:
    model = default_model()
    assert model.with_examples.features == EXAMPLE_FEATURES
    assert "train" in model.fitted_on and "test" not in model.fitted_on.split("(")[0]
    assert 0 < model.with_examples.fail_at < model.with_examples.pass_at < 1


def test_right_answers_in_other_words_score_above_wrong_ones(grader: FreeTextGrader) -> None:
    right = grader.score(ITEM, "I'd inform the data protection officer immediately, since the regulator might "
                               "have to be told within three days.")
    wrong = grader.score(ITEM, "Nothing, it can wait until Monday and the DPO doesn't need to hear about it.")
    limits = thresholds(None, right.coefficients)
    assert verdict(right.probability, limits) == "pass"
    assert verdict(wrong.probability, limits) != "pass"
    assert right.probability > wrong.probability + 0.4
    assert wrong.points_met == ()  # the DPO is mentioned but denied
    assert any("example" in reason for reason in right.reasons)


def test_examples_change_the_score(grader: FreeTextGrader) -> None:
    answer = "Buy a replacement laptop and restore the data from backups."
    with_examples = grader.score(ITEM, answer)
    without = grader.score(ITEM, answer, examples=[])
    assert with_examples.features["near_wrong"] > 0.8
    assert "near_wrong" not in without.features
    assert with_examples.probability < without.probability


def test_verdicts_follow_the_thresholds() -> None:
    coefficients = default_model().with_examples
    limits = thresholds(GradingThresholds(pass_at=0.8, fail_at=0.2), coefficients)
    assert [verdict(p, limits) for p in (0.95, 0.8, 0.5, 0.2, 0.05)] == ["pass", "pass", "unsure", "fail", "fail"]
    defaults = thresholds(None, coefficients)
    assert (defaults.pass_at, defaults.fail_at) == (coefficients.pass_at, coefficients.fail_at)
    assert thresholds(GradingThresholds(pass_at=0.6), coefficients).pass_at == 0.6


def test_lexical_terms_are_stemmed_content_words_with_negation_as_a_word() -> None:
    assert lexical_terms("The DPO is reporting it") == {"dpo", "report"}
    assert lexical_terms("The DPO doesn't need reports") == {"dpo", "doesn", "need", "report", NEGATED}
    assert jaccard(lexical_terms("report to the DPO"), lexical_terms("don't report to the DPO")) == pytest.approx(2 / 3)
    assert jaccard(frozenset(), frozenset()) == 0.0


def test_lexical_margin_is_closeness_to_a_right_example_minus_to_a_wrong_one(grader: FreeTextGrader) -> None:
    near_wrong = grader.features(ITEM, "Buy a new laptop and restore the files from the backup.", ITEM.examples)
    assert near_wrong["lexical_wrong"] == 1.0  # the same content words as the last (wrong) example
    assert near_wrong["lexical_margin"] == near_wrong["lexical_right"] - 1.0 < -0.5
    near_right = grader.features(ITEM, "Let the privacy people know immediately, they decide about informing the "
                                       "regulator in time.", ITEM.examples)
    assert near_right["lexical_margin"] > 0.5
    # a negation is a word: denying the right example's words leaves it less close
    denied = grader.features(ITEM, "Don't let the privacy people know immediately, they decide about informing "
                                   "the regulator in time.", ITEM.examples)
    assert denied["lexical_right"] < near_right["lexical_right"]
