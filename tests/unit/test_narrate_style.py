"""Alt-text rules: no medium-naming openers, no judging words, length limits, grounded LLM answers."""
import pytest

from agent.narrate.images import grounded, rule_alt, without_interpretation
from tools.narration.pixels import Pixels
from tools.narration.style import clean, shorten, style_problems

PHOTO = Pixels(width=320, height=240, std=60.0, flat=0.1, background=0.1, axes=False)


@pytest.mark.parametrize("raw", ["image of a dog on a beach", "A picture of a dog on a beach",
                                 "  Photo of:  a dog on a beach  "])
def test_clean_drops_the_medium_and_ends_with_a_full_stop(raw):
    assert clean(raw) == "A dog on a beach."


def test_shorten_cuts_at_a_word_and_keeps_the_limit():
    text = "A long line of red and blue boats moored along the quay at low tide in the evening."
    short = shorten(text, 40)
    assert len(short) <= 40 and short.endswith(".") and text.startswith(short[:-1])


def test_style_problems_name_each_broken_rule():
    assert style_problems("Image of a happy dog, probably asleep.", max_chars=20) == [
        'starts by naming the medium ("image of")', "interprets instead of describing (happy, probably)",
        "38 characters, over 20"]
    assert style_problems("A dog asleep on a rug.", max_chars=150) == []
    assert style_problems("   ") == ["empty"]


def test_without_interpretation_removes_judging_words_only():
    assert without_interpretation("a beautiful lake, probably at dawn") == "a lake, at dawn"


@pytest.mark.parametrize("caption", [
    "picture of pulsing competing guardians armenia insides noted beautiful percival waterway inducted tiberius "
    "editing happier louder emperor miracle drive payments huron observations francoeding",
    "image of a sad man", "x"])
def test_rule_alt_obeys_the_rules_whatever_the_captioner_says(caption):
    alt = rule_alt(caption, {}, None, PHOTO, 150)
    assert alt and len(alt) <= 125
    assert style_problems(alt, max_chars=150) == []


def test_rule_alt_puts_sidecar_context_first_and_names_the_cast():
    alt = rule_alt("two people near a door", {"caption": "Ada and Ben open the new library",
                                              "cast": ["Ada", "Ben"], "purpose": "Opening day"}, None, PHOTO, 150)
    assert alt == "Ada and Ben open the new library. Opening day."
    alt = rule_alt("two people near a door " * 10, {"cast": ["Ada"], "purpose": "Opening day"}, None, PHOTO, 150)
    assert alt.startswith("Two people near a door") and alt.endswith(". Opening day.") and len(alt) <= 125


def test_grounded_rejects_invented_content_words():
    notes = '- captioning model: "a red bus on a street"\n- purpose: "city transport"'
    assert grounded("A red bus on a city street.", notes)
    assert not grounded("A happy family enjoying their holiday picnic.", notes)
