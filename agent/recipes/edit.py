"""Story edits from a chat turn: "make the seal wear a red scarf in scene 2", "make scene two at
night", "in the third scene add a rainbow", "make it snow" (no scene: every scene).

`parse_edit` decides whether a message edits the session's story and which scene; `apply_edit`
folds the instruction into that scene's picture description (an LLM rewrite when it keeps the
instruction's words, else the instruction appended) and leaves every other scene untouched, so a
re-run with the same seed takes the unchanged scenes from the tool-call cache.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from agent.llm import LLM, ask_model
from agent.recipes.freeform import action_of
from agent.recipes.storyboard import Storyboard
from agent.words import COUNT, ORDINALS, number_value

_NOUN = r"(?:scene|picture|page|panel|image|illustration|part)"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)|last|final|" + "|".join(ORDINALS)
_PREP = r"(?:(?:in|on|for|of|at|to|from)\s+)?(?:the\s+)?"
_REFS = [
    re.compile(rf"{_PREP}\b{_NOUN}\s*(?:#|no\.?\s*|number\s+)?(?P<n>{COUNT})\b", re.IGNORECASE),
    re.compile(rf"{_PREP}\b(?P<o>{_ORDINAL})\s+{_NOUN}\b", re.IGNORECASE),
]
# A new story, not an edit of the one there is ("another story about...", "tell me a tale of...").
_NEW_STORY = re.compile(r"\b(?:new|another|different)\s+(?:story|tale)\b|\b(?:story|tale|fable)\s+(?:about|of|where)\b"
                        r"|\b(?:write|tell|make|create)\s+(?:me\s+|us\s+)?(?:a|an)\s+(?:\w+\s+){0,2}(?:story|tale)\b",
                        re.IGNORECASE)
_EDIT_LEAD = re.compile(r"^\s*(?:please\s+|now\s+|and\s+|also\s+)*(?:make|change|add|put|give|turn|let|have|remove|"
                        r"replace|set|dress|show)\b", re.IGNORECASE)
# Leading words that ask for a change rather than describe it: "make it at night" -> "at night".
_ASK = re.compile(r"^(?:please\s+|now\s+|also\s+)*(?:(?:make|change|let|have|set|turn)\s+(?:it\s+|them\s+|this\s+|"
                  r"that\s+|everything\s+|all\s+)?(?:so\s+(?:that\s+)?)?(?:be\s+|into\s+)?)?", re.IGNORECASE)
_WITH = re.compile(r"^(?:add|put|give\s+(?:it|them))\s+", re.IGNORECASE)
_STOP = {"the", "a", "an", "and", "or", "of", "in", "on", "at", "to", "with", "is", "are", "be", "it", "its", "make",
         "so", "that", "this", "into", "wear", "wears", "wearing", "add", "put", "give", "have", "let", "change"}


@dataclass(frozen=True)
class SceneEdit:
    """`scene` is 1-based; None means every scene. `instruction` is the message without the scene words."""

    scene: int | None
    instruction: str

    def describe(self) -> str:
        where = f"scene {self.scene}" if self.scene else "every scene"
        return f"{where}: {self.instruction}"


def parse_edit(message: str, *, scenes: int | None) -> SceneEdit | None:
    """The edit `message` asks of a story with `scenes` scenes (None: the session has no story yet),
    or None when it is a new request. ValueError (one line) for a scene that does not exist, or an
    edit with nothing to edit."""
    text = " ".join(message.split())
    if _NEW_STORY.search(text):
        return None
    found = scene_reference(text)
    if found is not None:
        number, span = found
        instruction = _clean(text[:span[0]] + " " + text[span[1]:])
        label = "the last scene" if number == -1 else f"scene {number}"
        if scenes is None:
            raise ValueError(f"there is no finished story in this session, so {label} cannot be changed; "
                             "ask for a story first")
        number = scenes if number == -1 else number
        if not 1 <= number <= scenes:
            raise ValueError(f"scene {number} does not exist: the story has {scenes} scene{'s' * (scenes != 1)}")
        if not instruction:
            raise ValueError(f"say what to change in scene {number}")
        return SceneEdit(scene=number, instruction=instruction)
    if scenes is not None and _EDIT_LEAD.match(text) and action_of(text) is None:
        return SceneEdit(scene=None, instruction=_clean(text))
    return None


def scene_reference(text: str) -> tuple[int, tuple[int, int]] | None:
    """(scene number, or -1 for "the last scene"; the span of the words naming it), or None."""
    for pattern in _REFS:
        match = pattern.search(text)
        if match:
            return _number(match.groupdict().get("n") or match.group("o")), match.span()
    return None


def _number(word: str) -> int:
    return -1 if word.lower() in ("last", "final") else int(number_value(word))


def _clean(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    text = re.sub(r"\s*,\s*,", ",", text)
    return text.strip(" ,.;:!?").removesuffix(" please").strip(" ,")


def fold_phrase(instruction: str) -> str:
    """The instruction as words for a picture prompt: "make it at night" -> "at night",
    "add a rainbow" -> "with a rainbow", "make the seal wear a red scarf" -> "the seal wear a red scarf"."""
    text = _ASK.sub("", instruction.strip(), count=1)
    text = _WITH.sub("with ", text, count=1)
    return text.strip(" ,.") or instruction.strip()


class PictureAnswer(BaseModel):
    picture: str = Field(min_length=10, max_length=280)


def apply_edit(board: Storyboard, edit: SceneEdit, llm: LLM | None, *, seed: int) -> tuple[Storyboard, list[str]]:
    """The storyboard with the edited scene(s) redrawn in words, and how each was rewritten; an edit of
    every scene leaves the locked ones alone (an edit naming a locked scene is refused before this)."""
    scenes, notes = list(board.scenes), []
    targets = [edit.scene] if edit.scene else [n for n, sc in enumerate(scenes, 1) if not sc.locked]
    for number in targets:
        old = scenes[number - 1]
        picture, how = rewrite_picture(old.picture, edit.instruction, llm, seed=seed + number)
        scenes[number - 1] = old.model_copy(update={"picture": picture})
        notes.append(f"scene {number}: {how}")
    return board.model_copy(update={"scenes": scenes}), notes


def rewrite_picture(picture: str, instruction: str, llm: LLM | None, *, seed: int) -> tuple[str, str]:
    """(new picture description, "llm" or "appended"). The LLM's rewrite counts only when it keeps
    every content word of the instruction (a small model likes to drop the very change asked for)."""
    phrase = fold_phrase(instruction)
    messages = [
        {"role": "system", "content": "You edit descriptions of book illustrations. Answer only with JSON."},
        {"role": "user", "content": f"Picture: {picture}\nChange: {instruction}\nWrite the picture description "
                                    "again with the change made. Keep everything else the same."},
    ]
    answer = ask_model(llm, messages, PictureAnswer, seed=seed).value
    if answer is not None and _keeps(answer.picture, phrase):
        return " ".join(answer.picture.split()), "llm"
    room = 300 - len(phrase) - 2
    return f"{picture.rstrip(' .')[:max(room, 0)]}, {phrase}"[-300:].lstrip(", "), "appended"


def _keeps(text: str, phrase: str) -> bool:
    words = {w for w in re.findall(r"[a-z]+", phrase.lower()) if w not in _STOP and len(w) > 2}
    have = set(re.findall(r"[a-z]+", text.lower()))
    return bool(words) and words <= have
