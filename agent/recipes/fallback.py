"""The deterministic storyboard: used when no LLM can answer, so a story run still finishes.

It is plain but honest: built only from the words of the request, in a beginning-middle-end arc,
and the run records that it was used.
"""
from __future__ import annotations

import re

from agent.recipes.storyboard import Scene, Storyboard
from agent.words import COUNT, SCENE_NOUNS

_LEAD = re.compile(
    r"^\s*(please\s+)?((write|make|tell|create|draw|give)\s+(me\s+|us\s+)?)?((a|an|the)\s+)?"
    r"([\w'-]+\s+){0,3}?(story|tale|picture book|mystery|adventure|fable)\s+"
    r"((for|to)\s+[\w' -]{1,40}?\s+)?(about|of|where|in which)\s+",
    re.IGNORECASE,
)
_TAIL = re.compile(rf"[,;.]?\s*(?:in\s+)?(?:{COUNT})\s+{SCENE_NOUNS}.*$", re.IGNORECASE)

_BEATS = [
    ("Once upon a time there was {s}.", "Every day began the same way, quiet and bright.",
     "{S}, at the start of the day"),
    ("One day, something unexpected happened to {s}.", "Nothing would be quite the same again.",
     "{S}, facing a surprise"),
    ("There was a problem to solve, and {s} had to be brave.", "Step by step, they found a way.",
     "{S}, being brave"),
    ("Friends came to help {s}.", "Together they were stronger than alone.", "{S}, with friends helping"),
    ("At last everything was well for {s}.", "And as night fell, everyone slept soundly.",
     "{S}, happy at the end of the day"),
]


def subject_of(request: str) -> str:
    """'a bedtime story about a lighthouse keeper and a seal, 3 scenes' -> 'a lighthouse keeper and a seal'."""
    subject = _TAIL.sub("", _LEAD.sub("", request.strip())).strip(" .,!?;:")
    return subject or "a curious friend"


def fallback_scene(request: str, index: int, total: int) -> Scene:
    """Scene `index` of `total`: the first beat opens, the last closes, the middle ones vary."""
    subject = subject_of(request)
    if index == 0:
        beat = _BEATS[0]
    elif index == total - 1:
        beat = _BEATS[-1]
    else:
        beat = _BEATS[1 + (index - 1) % 3]
    first, second, picture = beat
    return Scene(narration=f"{first.format(s=subject)} {second}",
                 picture=picture.format(S=subject[:1].upper() + subject[1:]))


def fallback_storyboard(request: str, scenes: int) -> Storyboard:
    subject = subject_of(request)
    title = f"The Story of {subject[:1].upper() + subject[1:]}"[:120]
    return Storyboard(title=title, scenes=[fallback_scene(request, i, scenes) for i in range(scenes)])
