"""What a request asks for: a story, a brief, a narration job or a free-form chain of tools.

Clear cases are decided by words that only one recipe answers to ("bedtime story", "launch brief",
"alt text for these photos"), or by a chain of two or more tool actions ("draw..., animate...,
caption..."), which is free-form. The LLM planner asks its model about the unclear rest.
"""
from __future__ import annotations

import re

from agent.recipes.freeform import clauses
from agent.requests import MAX_REQUEST_CHARS, only_markup

INTENTS = ("story", "brief", "narration", "freeform")

_MARKERS = {
    "story": r"stor(?:y|ies)|tale|fairy ?tale|fable|picture ?book|bedtime|once upon a time",
    "brief": r"brief|launch|campaign|product|promo\w*|advert\w*|marketing|hero (?:image|shot)|commercial",
    "narration": r"alt[- ]?text|audio description|blind|visually impaired|accessib\w*|"
                 r"describe (?:every|each|all|these|those|my)|(?:subtitle|narrate|caption) (?:my|these|those|this) "
                 r"(?:videos?|clips?|photos?|images?|pictures?|files?|folder)",
}
_MARKER_RES = {name: re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for name, p in _MARKERS.items()}


def check_request(request: str) -> str:
    """The request, stripped; ValueError with a one-line message when it cannot be planned."""
    if not isinstance(request, str) or not request.strip():
        raise ValueError("the request is empty; say what to make")
    if len(request) > MAX_REQUEST_CHARS:
        raise ValueError(f"the request is {len(request)} characters long; the limit is {MAX_REQUEST_CHARS}")
    if only_markup(request):
        raise ValueError("the request has no words, only markup or symbols; say what to make")
    return request.strip()


def keyword_intent(request: str) -> tuple[str, bool]:
    """(intent, decisive) from the request's words alone."""
    hits = {name: len(pattern.findall(request)) for name, pattern in _MARKER_RES.items()}
    found = [name for name, count in hits.items() if count]
    if found:
        return max(found, key=lambda name: hits[name]), len(found) == 1
    return "freeform", len({action for action, _ in clauses(request)}) >= 2


_KEEP = re.compile(r"\b(?:keep|save|remember)\s+(.{1,200}?)\s+for\s+later\b", re.IGNORECASE)


def keep_for_later(text: str) -> list[str] | bool:
    """The names a message asks to keep ("keep Mara and Pip for later" -> ['Mara', 'Pip']); True for
    "keep the cast for later" (every character); False when it asks nothing of the kind."""
    found = _KEEP.search(text)
    if found is None:
        return False
    words = re.split(r",\s*|\s+and\s+", found.group(1).strip())
    names = [" ".join(w.split()[1:]) if w.lower().startswith("the ") else w.strip() for w in words]
    names = [n for n in names if n and n[:1].isupper()][:6]
    return names or True
