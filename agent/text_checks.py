"""Is an LLM's text text? The one check for every text that reaches a person or a model: narration,
picture prompts, captions, titles and voice-overs.

A small model fills templates badly: it leaves JSON and template debris in its answers ("}Here is the
final image... {{", "<NAME>:", "}]}]}2018/09/30", "**List of images**"). `debris(text)` names what is
wrong; `repaired(text)` strips the debris and returns what is left when it still reads as words (None
otherwise); `clean_text(text, fallback)` is the text when clean, else its repair, else the fallback,
which the caller writes from the request's own words. Callers that can ask again do so first.
"""
from __future__ import annotations

import re

_CHECKS: tuple[tuple[str, re.Pattern], ...] = (
    ("braces", re.compile(r"[{}]")),
    ("brackets", re.compile(r"[\[\]]")),
    ("placeholder", re.compile(r"<[A-Z_ ]{2,40}>|\b(?:placeholder|lorem ipsum|TODO|N/A)\b|\$\{|%s\b|\{\{")),
    ("markup", re.compile(r"</?[a-zA-Z][^<>]{0,60}>|\*\*|__|```|^\s*#{1,6}\s|#\w+#|\\n|&[a-z]+;", re.MULTILINE)),
    ("date", re.compile(r"\b\d{4}[/-]\d{1,2}[/-]\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")),
    ("template talk", re.compile(r"\b(?:here is (?:the|your|a)\b[^.]{0,40}\b(?:image|prompt|list|json|output|answer)|"
                                 r"as an ai|json|template|generated list|image ?name)\b", re.IGNORECASE)),
    ("url", re.compile(r"https?://|www\.", re.IGNORECASE)),
)
_STRIP = re.compile(r"<[^<>]{0,60}>|\{\{[^{}]{0,80}\}\}|[{}\[\]*#_`|\\]+|\b\d{4}[/-]\d{1,2}[/-]\d{1,2}\b|"
                    r"https?://\S+|www\.\S+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


def debris(text: str) -> list[str]:
    """The kinds of debris in `text` (empty when it is clean); a text with no words at all is debris too."""
    found = [name for name, pattern in _CHECKS if pattern.search(text or "")]
    if not _readable(text or ""):
        found.append("no words")
    return found


def is_clean(text: str) -> bool:
    return not debris(text)


def repaired(text: str, *, min_words: int = 2) -> str | None:
    """`text` with its debris stripped, when what is left is clean and at least `min_words` words."""
    if not isinstance(text, str):
        return None
    left = " ".join(_STRIP.sub(" ", text).split()).strip(" :;,-")
    left = re.sub(r"\s+([,.;:!?])", r"\1", left)
    if len(_WORD.findall(left)) < min_words or debris(left):
        return None
    return left


def clean_text(text: str | None, fallback: str) -> str:
    """`text` when clean, else its repair, else `fallback` (the caller's text from the request's words)."""
    if isinstance(text, str) and text.strip() and is_clean(text):
        return text.strip()
    return (repaired(text) if isinstance(text, str) else None) or fallback


def _readable(text: str) -> bool:
    """At least one word, and letters make up most of the non-space characters."""
    chars = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in chars)
    return bool(_WORD.search(text)) and letters >= 0.6 * len(chars)
