"""The plain sentence describe_image writes: hedged by the classifier's probability, a sure group named
when no member is sure, words quoted only when read confidently, a text-covered picture called that."""
from __future__ import annotations

import numpy as np
import pytest

from tools.describe_image import (
    LIKELY,
    QUOTE_WORDS,
    SURE,
    class_groups,
    plain_description,
    subject_sentence,
    with_article,
)
from tools.engines.classifier import imagenet_classes


def probabilities(**named: float) -> np.ndarray:
    """A distribution with the given ImageNet classes (spaces as underscores) and the rest spread thin."""
    names = imagenet_classes()
    p = np.zeros(1000)
    for name, value in named.items():
        p[names.index(name.replace("_", " "))] = value
    rest = 1 - p.sum()
    return p + (p == 0) * rest / (p == 0).sum()


def ocr(*lines: tuple[str, float], area: float = 0.05) -> dict:
    return {"lines": [{"text": t, "confidence": c} for t, c in lines], "text_area": area}


@pytest.mark.parametrize(("p", "sentence"), [
    (probabilities(beacon=0.9), "A beacon."),
    (probabilities(beacon=SURE), "A beacon."),
    (probabilities(beacon=0.45, breakwater=0.2), "Probably a beacon."),
    (probabilities(beacon=LIKELY), "Probably a beacon."),
    (probabilities(beacon=0.2, breakwater=0.15), "Unclear: perhaps a beacon or a breakwater."),
    (probabilities(tiger_cat=0.38, Egyptian_cat=0.36, tabby=0.17), "A cat, perhaps a tiger cat."),
    (probabilities(tiger_cat=0.2, tabby=0.15, lynx=0.1), "Probably a cat."),
    (probabilities(espresso=0.95), "Espresso."),
    (probabilities(**{"ice bear": 0.8}), "A polar bear."),
])
def test_the_subject_is_worded_by_how_sure_the_classifier_is(p, sentence):
    assert subject_sentence(p) == sentence


def test_confident_words_are_quoted_after_the_subject():
    p = probabilities(beacon=0.5)
    assert plain_description(p, ocr(("Open daily", 0.97))) == "Probably a beacon. Text: 'Open daily'"
    assert plain_description(p, ocr(("Open daily", 0.97), ("x7#", 0.55))) == "Probably a beacon. Text: 'Open daily'"
    assert plain_description(p, ocr()) == "Probably a beacon."


def test_long_text_is_cut_with_an_ellipsis():
    words = " ".join(f"w{i}" for i in range(QUOTE_WORDS + 5))
    sentence = plain_description(probabilities(menu=0.9), ocr((words, 0.99)))
    assert sentence.endswith(f"w{QUOTE_WORDS - 1}…'") and f"w{QUOTE_WORDS}" not in sentence


def test_a_picture_mostly_of_text_is_called_that_unless_the_classifier_is_sure():
    lines = [("Region-based segmentation", 0.99), ("Let us first determine markers", 0.98)]
    assert plain_description(probabilities(menu=0.2), ocr(*lines, area=0.6)) == \
        "Mostly text: 'Region-based segmentation Let us first determine markers'"
    assert plain_description(probabilities(menu=0.9), ocr(*lines, area=0.6)).startswith("A menu. Text: ")


@pytest.mark.parametrize(("noun", "phrase"), [
    ("owl", "an owl"), ("cat", "a cat"), ("unicycle", "a unicycle"), ("European fire salamander",
     "a European fire salamander"), ("hourglass", "an hourglass"), ("iPod", "an iPod"), ("espresso", "espresso"),
    ("sunglasses", "sunglasses"), ("umbrella", "an umbrella"),
])
def test_articles(noun, phrase):
    assert with_article(noun) == phrase


def test_groups_are_whole_and_name_their_members():
    groups, names = class_groups(), imagenet_classes()
    members = {g: {names[i] for i, word in groups.items() if word == g} for g in set(groups.values())}
    assert len(members["dog"]) == 118 and {"Chihuahua", "Mexican hairless"} <= members["dog"]
    assert members["cat"] == {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
    assert {"goose", "albatross", "cock", "great grey owl"} <= members["bird"]
    assert groups[134] == "bird" and 517 not in groups  # the two "crane"s: the bird, not the machine
    assert "passenger car" in members["train or tram"] and "passenger car" not in members["car"]
