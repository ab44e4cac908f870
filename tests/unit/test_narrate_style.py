"""Alt-text rules: no medium-naming openers, no judging words, length limits, grounded LLM answers."""
import pytest

from agent.narrate.images import grounded, rule_alt, without_interpretation
from tools.narration.pixels import Pixels
from tools.narration.style import style_problems

PHOTO = Pixels(width=320, height=240, std=60.0, flat=0.1, background=0.1, axes=False)


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
