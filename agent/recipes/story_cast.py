"""The fixed frame a grounded storyboard is written in, built from the request's subjects by rules:
the cast (with looks from the request, or from an earlier story of the chat), the setting, a plain
title to fall back on, and which subjects each scene is about."""
from __future__ import annotations

import re

from agent.recipes.story_subjects import DETERMINERS, PLACE_NOUNS, Subject, Subjects
from agent.recipes.storyboard import Character


def cast_of(subjects: Subjects, known: str = "") -> list[Character]:
    """One character per subject of kind character, its look the request's own words (or a known look)."""
    looks = _known_looks(known)
    cast = []
    for subject in subjects.characters:
        look = looks.get(subject.label.lower()) or looks.get(subject.name.lower()) or _look(subject)
        cast.append(Character(name=subject.label[:40], look=look[:120]))
    return cast


def _look(subject: Subject) -> str:
    """'a lighthouse keeper'; 'Pip' the fox -> 'a fox'; a bare name -> 'a storybook character'."""
    words = subject.phrase.split()
    body = " ".join(words[1:]) if words[0].lower() in DETERMINERS else subject.phrase
    if subject.name and subject.name.lower() == body.lower():
        return "a storybook character"
    if words[0].lower() in DETERMINERS and words[0].lower() not in ("the", "a", "an"):
        return subject.phrase  # "two friends"
    return f"{'an' if body[:1].lower() in 'aeiou' else 'a'} {body}"


def _known_looks(known: str) -> dict[str, str]:
    """'Mira: an old keeper; Pip: a grey seal' -> {'mira': 'an old keeper', 'pip': 'a grey seal'}."""
    pairs = (part.split(":", 1) for part in known.split(";") if ":" in part)
    return {name.strip().lower(): look.strip() for name, look in pairs if name.strip() and len(look.strip()) >= 3}


def setting_of(subjects: Subjects) -> str:
    """The place asked for ('the snow'), else a place word inside a subject ('a lighthouse keeper' ->
    'the lighthouse'), else ''."""
    if subjects.place is not None:
        return subjects.place.label
    for subject in subjects.items:
        for word in subject.phrase.lower().split()[:-1]:
            if word in PLACE_NOUNS:
                return f"the {word}"
    return ""


def default_title(subjects: Subjects, fallback: str) -> str:
    """'The Lighthouse Keeper and the Seal', 'The Story of Nia': plain words naming the first subjects."""
    labels = [s.label for s in (subjects.characters or subjects.items)[:2]]
    if not labels:
        return f"The Story of {fallback[:1].upper() + fallback[1:]}"[:120]
    text = " and ".join(labels) if len(labels) > 1 else f"the story of {labels[0]}"
    small = {"the", "and", "of", "a", "an", "in", "on"}
    words = [w if (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(text.split())]
    return re.sub(r"\s+", " ", " ".join(words))[:120]


def focus_of(subjects: Subjects, index: int, total: int) -> list[Subject]:
    """What scene `index` of `total` must name: one subject in turn (characters first, then things and
    the place), the first named first; when there are more subjects than scenes, the rest go in too."""
    order = [*subjects.characters, *subjects.things, *([subjects.place] if subjects.place else [])]
    if not order:
        return []
    primary = order[index % len(order)]
    extra = [s for i, s in enumerate(order) if i >= total and i % total == index and s is not primary]
    return [primary, *extra]
