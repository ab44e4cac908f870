"""Style rules for accessible descriptions (alt text and audio description cues).

WCAG 2.2 (1.1.1) and the audio-description guidelines (ACB, DCMP) ask for objective, present-tense
descriptions: say what is there, not how it feels, and never announce the medium ("image of"),
because screen readers already say "image".
"""
from __future__ import annotations

import re

BANNED_OPENERS = ("image of", "picture of", "photo of", "photograph of", "an image of", "a picture of",
                  "a photo of", "an image showing", "a picture showing", "this image", "this picture",
                  "graphic of", "screenshot of")
# Words that guess at feelings or judge instead of describing what can be seen.
INTERPRETATION_WORDS = ("seems", "seem", "appears to feel", "happy", "sad", "angry", "beautiful", "ugly",
                        "lovely", "scary", "probably", "perhaps", "maybe", "i think", "we see", "we can see")

# A classifier's own hedge ("Probably a lighthouse.") says how sure the model is, not a guess about a
# feeling: allowed in a sentence `describe_image` composed, removed from a captioner's.
HEDGES = ("probably", "perhaps", "maybe")

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # a sidecar's or a model's control characters: never wanted in text


def clean(text: str) -> str:
    """One line, single spaces, no banned opener, first letter capitalised, ends with a full stop."""
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip().strip('"').strip()
    lowered = text.lower()
    for opener in sorted(BANNED_OPENERS, key=len, reverse=True):
        if lowered.startswith(opener):
            text = text[len(opener):].lstrip(" :,-")
            break
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary so the result (with its full stop) fits in `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "."


def style_problems(text: str, *, max_chars: int | None = None, allow: tuple[str, ...] = ()) -> list[str]:
    """Every rule the text breaks, as short reasons ('' text breaks 'empty'); `allow`: words not counted
    as interpretation (HEDGES for a classifier's sentence)."""
    problems = []
    lowered = _SPACE.sub(" ", text).strip().lower()
    if not lowered:
        return ["empty"]
    if lowered.startswith(BANNED_OPENERS):
        problems.append("starts by naming the medium (\"image of\")")
    found = [w for w in INTERPRETATION_WORDS if w not in allow and re.search(rf"\b{re.escape(w)}\b", lowered)]
    if found:
        problems.append(f"interprets instead of describing ({', '.join(found)})")
    if max_chars is not None and len(text) > max_chars:
        problems.append(f"{len(text)} characters, over {max_chars}")
    return problems
