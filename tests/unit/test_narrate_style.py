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


def test_rule_alt_quotes_the_words_keeps_the_classifiers_hedge_and_cuts_long_text():
    poster = ["LIGHTHOUSE MUSEUM", "Open daily 9 to 5", "Harbour Road 42"]
    assert rule_alt("Mostly text.", {}, "image of text", PHOTO, 150, words=poster, hedged=True) == \
        "Mostly text: 'LIGHTHOUSE MUSEUM Open daily 9 to 5 Harbour Road 42'."
    assert rule_alt("Probably a lighthouse.", {"purpose": "Visitor information"}, None, PHOTO, 150,
                    words=["Open daily"], hedged=True) == \
        "Probably a lighthouse. Text: 'Open daily'. Visitor information."
    assert rule_alt("probably a lighthouse", {}, None, PHOTO, 150) == "A lighthouse."  # a captioner's guess goes
    long = rule_alt("Probably a lighthouse.", {}, None, PHOTO, 150, words=[f"w{i}" for i in range(60)], hedged=True)
    assert long.startswith("Probably a lighthouse. Text: 'w0 w1") and long.endswith("…'.") and len(long) <= 125
