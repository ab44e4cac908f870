"""The critic's arithmetic: WER agrees with jiwer after the documented normalisation, and cosines are right."""
import math

import jiwer
import numpy as np
import pytest

from tools.metrics import consecutive_cosines, cosine, cosines_to, mean, normalise, wer, word_errors

# (reference, hypothesis, substitutions, deletions, insertions) counted by hand
PAIRS = [
    ("the keeper lit the lamp", "the keeper lit the lamp", 0, 0, 0),
    ("the keeper lit the lamp", "the keeper lit a lamp", 1, 0, 0),
    ("the seal swam home", "the seal swam back home again", 0, 0, 2),
    ("a gray seal waited on the rocks", "a seal waited on rocks", 0, 2, 0),
    ("the lamp shone all night", "lamp shown all night long", 1, 1, 1),
]


@pytest.mark.parametrize(("ref", "hyp", "subs", "dels", "ins"), PAIRS)
def test_wer_is_jiwers_on_known_pairs(ref, hyp, subs, dels, ins):
    assert wer(ref, hyp) == pytest.approx(jiwer.wer(normalise(ref), normalise(hyp)))
    errors = word_errors(ref, hyp)
    assert (errors.substitutions, errors.deletions, errors.insertions) == (subs, dels, ins)
    assert errors.wer == pytest.approx((subs + dels + ins) / len(ref.split()))


def test_wer_compares_the_normalised_texts():
    errors = word_errors("The GREY harbour, at dawn!", "the gray harbor at dawn")
    assert errors.wer == 0.0 and errors.reference == errors.hypothesis == "the gray harbor at dawn"
    assert wer("Don't stop.", "do not stop") == pytest.approx(2 / 2)  # contractions are not expanded


def test_empty_hypothesis_is_all_deletions_and_empty_reference_is_refused():
    assert word_errors("one two three", "").deletions == 3 and wer("one two three", " ... ") == 1.0
    with pytest.raises(ValueError, match="no words"):
        wer("?!", "hello")


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, World!", "hello world"),
    ("  The   lamp\tshone.\n", "the lamp shone"),
    ("The keeper’s lamp—bright & warm", "the keeper's lamp bright warm"),  # curly apostrophe kept inside a word
    ("Don't go; it's late.", "don't go it's late"),
    ("'Hello,' she said to the keepers'", "hello she said to the keepers"),  # quoting apostrophes go
    ("a sea-green boat", "a sea green boat"),
    ("It cost 1,000 coins, or 3.5 each; 3 in all.", "it cost 1000 coins or 3.5 each 3 in all"),
    ("three seals", "three seals"),  # numbers stay as written: no words <-> digits
    ("The grey seal in the harbour", "the gray seal in the harbor"),
    ("Colours, greyish neighbourhoods and theatres", "colors grayish neighborhoods and theaters"),
    ("A greyhound", "a greyhound"),  # only listed words with simple endings are respelled
])
def test_normalisation_examples(text, expected):
    assert normalise(text) == expected


def test_normalise_is_idempotent():
    text = "The Grey Keeper's 'colourful' harbour, 1,000 times!"
    assert normalise(normalise(text)) == normalise(text)


def test_cosine_of_known_vectors():
    assert cosine([1, 0], [0, 1]) == 0.0
    assert cosine([1, 0], [1, 1]) == pytest.approx(1 / math.sqrt(2))
    assert cosine([1, 2, 3], [-2, -4, -6]) == -1.0
    for v in np.random.default_rng(0).normal(size=(20, 32)).astype(np.float32):
        assert cosine(v, v) == pytest.approx(1.0) and cosine(v, v) <= 1.0  # clipped: rounding never gives 1 + eps
    assert cosine([3, 4], [4, 3]) == pytest.approx(24 / 25)
    with pytest.raises(ValueError, match="zero vector"):
        cosine([0, 0], [1, 0])
    with pytest.raises(ValueError, match="different lengths"):
        cosine([1, 0], [1, 0, 0])


def test_cosine_helpers():
    vectors = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert cosines_to(vectors[0], vectors[1:]) == pytest.approx([1 / math.sqrt(2), 0.0])
    assert consecutive_cosines(vectors) == pytest.approx([1 / math.sqrt(2)] * 2)
    assert mean([1.0, 2.0, 6.0]) == 3.0
    with pytest.raises(ValueError):
        mean([])
