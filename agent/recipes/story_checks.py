"""Checks a grounded storyboard is held to, and its adherence to the request.

Each part is checked on its own, so only the failing part is asked again: a title must be plain words
that name a subject; a scene must name what it was asked to be about, invent no new names and never
call a character something the request says it is not ("the seal was a little girl").
"""
from __future__ import annotations

import re

from agent.recipes.story_subjects import CREATURES, Subject, Subjects, find_subjects, singular
from agent.recipes.storyboard import Scene, Storyboard
from tools.engines.llm import english_ratio

_SMALL = frozenset({"a", "an", "the", "some", "my", "his", "her", "their", "two", "three", "little", "big", "old"})
_PLAIN_TITLE = re.compile(r"^[A-Za-z][A-Za-z' -]*[A-Za-z]$")
_ECHOES = ("sentences of narration", "scene ", "json", "continue the story", "story request", "bedtime story about",
           "write the", "two short sentences", "a tale of", "the story of")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)(?<![\"'])\b([A-Z][a-z]{2,})\b")
_IS_A = re.compile(r"\b(\w+)\s*(?:,|\bis|\bwas|\bwho was|\bbecame)\s+(?:a|an)\s+((?:\w+\s+){0,2}\w+)")
_SAFE_CAPITALS = frozenset({"The", "And", "But", "She", "His", "Her", "They", "Then", "When", "One", "Once",
                            "That", "This", "There", "With", "Every", "Soon", "After", "Together", "Goodnight",
                            "Good", "Night", "Mr", "Mrs", "Miss", "Sir", "Lady", "Captain", "King", "Queen",
                            "Monday", "Sunday", "Christmas", "Moon", "Sun", "Earth"})


def words_of(text: str) -> set[str]:
    """Lowercase words of a text and their singulars."""
    found = set(re.findall(r"[a-z]+", text.lower()))
    return found | {singular(w) for w in found}


def names(subject: Subject, text: str) -> bool:
    """Whether the text names the subject (by name, head noun or its singular)."""
    return bool(subject.words() & words_of(text))


def title_problem(title: str, subjects: Subjects, story: str = "") -> str:
    """Why a title is junk ('' when fine): plain words only, 2 to 8 of them, naming a subject, and
    (given the story's text) no word the story does not have."""
    if not _PLAIN_TITLE.match(title) or "  " in title:
        return "the title is not plain words"
    if not 2 <= len(title.split()) <= 8:
        return "the title is too short or too long"
    asked = set().union(*(words_of(s.phrase) | s.words() for s in subjects.items)) - _SMALL if subjects.items else set()
    if asked and not asked & words_of(title):
        return "the title names nothing the request asked for"
    if english_ratio(title) < 0.6:
        return "the title is not English"
    stray = words_of(title) - words_of(story) - _SMALL - {"and", "of", "in", "on", "at", "to", "with"}
    if story and any(w not in words_of(story) and singular(w) not in words_of(story) for w in stray):
        return "the title has words the story does not"
    return ""


def scene_problem(scene: Scene, board: Storyboard, focus: list[Subject] | None = None,
                  allowed: set[str] = frozenset()) -> str:
    """Why a generated scene is unusable, or '' when it is fine. `focus`: what it must name;
    `allowed`: proper names it may use (the cast's and the request's)."""
    text = scene.narration.lower()
    if any(marker in text for marker in _ECHOES):
        return "the model echoed the instructions"
    if any(_overlap(text, s.narration.lower()) > 0.6 for s in board.scenes):
        return "the model repeated an earlier scene"
    if len(set(text.split())) < 5 or "  " in scene.narration:
        return "the narration is too short"
    if english_ratio(text) < (0.75 if focus is None else 0.85):
        return "the narration is not English prose"
    missing = [s.label for s in focus or [] if not names(s, scene.narration)]
    if missing:
        return f"the scene does not name {', '.join(missing)}"
    if focus is not None and (stray := new_names(scene.narration, allowed)):
        return f"the scene brings in names the story does not have ({', '.join(stray)})"
    if focus is not None and (clash := contradiction(scene.narration, focus)):
        return clash
    return ""


def new_names(text: str, allowed: set[str]) -> list[str]:
    """Capitalised words mid-sentence that are not among the allowed names ('Zephye')."""
    low = {a.lower() for a in allowed}
    return sorted({w for w in _CAPITALISED.findall(text) if w not in _SAFE_CAPITALS and w.lower() not in low})


def contradiction(text: str, cast: list[Subject]) -> str:
    """'the seal was a little girl': a character called a different creature or person ('' if none)."""
    for said, words in _IS_A.findall(text.lower()):
        for member in cast:
            heads = {member.head.lower(), singular(member.head.lower())}
            if said not in heads | ({member.name.lower()} if member.name else set()):
                continue
            kinds = [w for w in words.split() if singular(w) in CREATURES or w in CREATURES]
            if kinds and not heads & ({singular(w) for w in kinds} | set(kinds)):
                return f"the scene calls {member.label} a {kinds[0]}"
    return ""


def _overlap(a: str, b: str) -> float:
    """Share of a's words that also appear in b (a crude repetition detector)."""
    words = a.split()
    return sum(w in set(b.split()) for w in words) / max(len(words), 1)


def adherence(subjects: Subjects, board: Storyboard) -> dict[str, float | bool | list[str]]:
    """The share of the request's subjects the storyboard keeps: a subject is kept when the cast or the
    setting carries it (with its own kind) and the title or a scene names it. Also the parts' own shares."""
    if not subjects.items:
        return {"adherence": 1.0, "title": True, "cast": 1.0, "scenes": 1.0, "lost": []}
    cast_text = " ".join(f"{c.name} {c.look}" for c in board.characters)
    story_text = " ".join([board.title, *(s.narration for s in board.scenes)])
    in_cast = [s for s in subjects.items if names(s, cast_text) or s.role != "character"]
    in_story = [s for s in subjects.items if names(s, story_text)]
    kept = [s for s in subjects.items if s in in_cast and s in in_story]
    total = len(subjects.items)
    return {"adherence": round(len(kept) / total, 3), "title": any(names(s, board.title) for s in subjects.items),
            "cast": round(len(in_cast) / total, 3), "scenes": round(len(in_story) / total, 3),
            "lost": [s.label for s in subjects.items if s not in kept]}


def run_adherence(request: str, storyboard_info: dict) -> dict | None:
    """Adherence of a story run's recorded storyboard to its request (None for a chat edit, whose
    request is the change, or a run without a storyboard)."""
    if not storyboard_info.get("board") or storyboard_info.get("source") == "edit":
        return None
    return adherence(find_subjects(request), Storyboard.model_validate(storyboard_info["board"]))
