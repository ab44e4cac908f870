"""Numbers written as words ("four scenes", "the second picture", "a five second clip"): one table for
every recipe that reads counts, scene references and durations out of a request."""
from __future__ import annotations

import re

CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth")
# A count: one or two digits, or a cardinal word (regex alternation, for use inside a group).
COUNT = r"\d{1,2}|" + "|".join(CARDINALS)
# A count that may also be a decimal number ("2.5 seconds").
AMOUNT = r"\d+(?:\.\d+)?|" + "|".join(CARDINALS)
SCENE_NOUNS = r"(?:scenes?|parts?|pages?)"
_SCENE_COUNT = re.compile(rf"\b({COUNT})[\s-]+{SCENE_NOUNS}\b", re.IGNORECASE)


def number_value(word: str) -> float:
    """'four' -> 4, 'second' -> 2, '12th' -> 12, '2.5' -> 2.5; ValueError for anything else."""
    word = word.lower()
    if word in CARDINALS:
        return CARDINALS.index(word) + 1
    if word in ORDINALS:
        return ORDINALS.index(word) + 1
    return float(re.sub(r"(?<=\d)(st|nd|rd|th)$", "", word))


def scene_count(text: str, default: int = 3) -> int:
    """'a story in four scenes' -> 4 (kept within 1-24)."""
    match = _SCENE_COUNT.search(text)
    if not match:
        return default
    return min(max(int(number_value(match.group(1))), 1), 24)
