"""The story recipe: a grounded storyboard, compiled into a plan.

The embedded 135M model drifts ("{Lioness}, her skin is black like the sea", a cast named "Elf,"), so
the recipe grounds it: the request's subjects are found first by rules (agent/recipes/story_subjects.py)
and become the cast, the setting and a plain title (story_cast.py); the LLM only writes each scene's
narration about the subjects it is given (its first words are fixed by the answer's schema), and a
title with the first scene. Every part is checked (story_checks.py): a scene that names the wrong
things, brings in new names, contradicts a character's kind or echoes the instructions is asked
for once more with another seed, then replaced by the deterministic scene; a junk title is replaced
by the plain one. The run records where each part came from and its adherence to the request.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, create_model

from agent.llm import LLM, ask_model
from agent.plan_schema import Plan, PlanStep
from agent.recipes.fallback import fallback_scene, subject_of
from agent.recipes.story_cast import cast_of, default_title, focus_of, setting_of
from agent.recipes.story_checks import adherence, scene_problem, title_problem
from agent.recipes.story_subjects import Subject, Subjects, find_subjects
from agent.recipes.storyboard import Scene, Storyboard
from agent.settings import StorySettings

__all__ = ["StoryboardResult", "compile_plan", "scene_problem", "scene_seed_of", "write_storyboard"]

SYSTEM = "You write short picture-book stories for children. Answer only with JSON."
SCENE_TOKENS = 72  # ~34 words of narration and the JSON around them: the schema ends the answer first
TITLE_TOKENS = 16


@dataclass
class StoryboardResult:
    """The storyboard, where it came from (`llm`, `mixed` or `fallback`), why, and its adherence."""

    storyboard: Storyboard
    source: str
    notes: list[str] = field(default_factory=list)
    adherence: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Frame:
    """What every scene call shares: the request's subjects, the board so far, the run's notes."""

    request: str
    subjects: Subjects
    board: Storyboard
    seed: int
    max_tokens: int
    notes: list[str] = field(default_factory=list)
    from_llm: int = 0
    unavailable: str = ""


def write_storyboard(llm: LLM | None, request: str, scenes: int, *, seed: int,
                     progress: Callable[[str], None] = lambda _: None,
                     max_tokens: int = 160, known: str = "") -> StoryboardResult:
    """A title, the cast and `scenes` scenes, grounded in the request's subjects; deterministic where the
    LLM fails. `known` lists characters an earlier story of the same chat session introduced."""
    subjects = find_subjects(request)
    board = Storyboard(title=default_title(subjects, subject_of(request)), characters=cast_of(subjects, known),
                       setting=setting_of(subjects), scenes=[])
    frame = _Frame(request, subjects, board, seed, max_tokens)
    for index in range(scenes):
        progress(f"writing scene {index + 1} of {scenes}")
        board.scenes.append(_scene(llm, frame, index, scenes))
    if frame.unavailable:
        frame.notes.insert(0, f"the LLM could not be asked: {frame.unavailable}")
    _keep_title_to_the_story(frame)
    source = "fallback" if not frame.from_llm else "llm" if not frame.notes else "mixed"
    return StoryboardResult(board.with_seeds(seed), source, frame.notes, adherence(subjects, board))


def _scene(llm: LLM | None, frame: _Frame, index: int, total: int) -> Scene:
    focus = focus_of(frame.subjects, index, total)
    problem = ""
    for attempt in range(2):
        if llm is None or frame.unavailable:
            frame.unavailable = frame.unavailable or "no LLM is configured"
            return fallback_scene(frame.request, index, total)
        with_title = index == 0
        asked = ask_model(llm, _messages(frame, index, total, focus), _answer_model(_lead(focus), with_title),
                          seed=frame.seed + 1000 * attempt + index,
                          max_tokens=min(frame.max_tokens, SCENE_TOKENS + TITLE_TOKENS * with_title))
        if asked.unavailable:
            frame.unavailable = asked.problem
            continue
        if asked.value is None:
            problem = asked.problem
            continue
        if with_title:
            _take_title(frame, asked.value.title)
        scene = Scene(narration=" ".join(asked.value.narration.split()), picture=_picture(asked.value.narration))
        problem = scene_problem(scene, frame.board, focus, _allowed_names(frame))
        if not problem:
            frame.from_llm += 1
            return scene
    frame.notes.append(f"scene {index + 1}: used the deterministic scene ({problem})")
    return fallback_scene(frame.request, index, total)


def _take_title(frame: _Frame, title: str) -> None:
    """Keep the LLM's title when it is plain words naming a subject; the plain title stays otherwise."""
    title = " ".join(title.split())
    frame.notes[:] = [n for n in frame.notes if not n.startswith("title:")]
    if problem := title_problem(title, frame.subjects):
        frame.notes.append(f"title: used the plain title ({problem})")
    else:
        frame.board.title = title


def _keep_title_to_the_story(frame: _Frame) -> None:
    """The LLM's title was written before the scenes: it goes if it has words the story does not."""
    board = frame.board
    story = " ".join([frame.request, *(c.name for c in board.characters), *(s.narration for s in board.scenes)])
    if problem := title_problem(board.title, frame.subjects, story):
        board.title = default_title(frame.subjects, subject_of(frame.request))
        frame.notes.append(f"title: used the plain title ({problem})")


def _allowed_names(frame: _Frame) -> set[str]:
    words = " ".join([frame.request, *(c.name for c in frame.board.characters)]).replace("'s", "")
    return {w for w in words.split() if w[:1].isupper()}


def _picture(narration: str) -> str:
    """The illustration shows the scene's first sentence (the cast sheet and setting are added later)."""
    first = " ".join(narration.split()).split(". ")[0].rstrip(".")
    return first[:140] or narration[:140]


def _lead(focus: list[Subject]) -> str:
    """The words a scene's narration starts with: its first subject ('The seal', 'Pip')."""
    lead = _capitalised(focus[0].label) if focus else "The"
    return "".join(ch for ch in lead if ch.isalnum() or ch in " '-")


_WORD = "[A-Za-z][A-Za-z'-]*"


@lru_cache(maxsize=256)
def _answer_model(lead: str, with_title: bool) -> type[BaseModel]:
    """The answer's schema: the narration starts with `lead` and runs on for 10-34 plain words (letters,
    then at most one mark) to a full stop; the title (scene 1 only) is 2-7 plain words. One model per
    schema, so the LLM's grammar cache hits."""
    narration = Field(pattern=rf"^{lead}( {_WORD}[,.!?;]?){{9,33}} {_WORD}[.!?]$")
    fields: dict[str, Any] = {"narration": (str, narration)}
    if with_title:
        fields = {"title": (str, Field(pattern=r"^[A-Z][a-z]+( [A-Za-z]+){1,6}$")), **fields}
    return create_model("SceneAnswer", **fields)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _messages(frame: _Frame, index: int, total: int, focus: list[Subject]) -> list[dict[str, str]]:
    stage = "beginning" if index == 0 else "ending" if index == total - 1 else "middle"
    board = frame.board
    lines = [f"Story: {subject_of(frame.request)}.",
             f"Characters: {', '.join(c.name for c in board.characters) or 'none'}."]
    if board.setting:
        lines.append(f"Place: {board.setting}.")
    if board.scenes:
        lines.append(f"Before: {board.scenes[-1].narration}")
    about = " and ".join(s.label for s in focus) or "the story"
    title = "a short title and " if index == 0 else ""
    lines.append(f"Write {title}the {stage} of the story in two short sentences about {about}.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def scene_seed_of(scene: Scene, seed: int, number: int) -> int:
    """The seed of scene `number` (1-based): its own when set, else the run's seed plus its number."""
    return scene.seed if scene.seed is not None else seed + number


def compile_plan(board: Storyboard, story: StorySettings, *, seed: int, prefix: str = "") -> Plan:
    """One image and one narration per scene, then the video that puts them together. `prefix` goes
    before every step id, so a story can sit inside a larger plan (a brief) without clashing."""
    steps: list[PlanStep] = []
    voice = {"voice": board.characters[0].voice} if board.characters and board.characters[0].voice != "heart" else {}
    for i, scene in enumerate(board.scenes, start=1):
        prompt, scene_seed = board.image_prompt(scene), scene_seed_of(scene, seed, i)
        image_args = {"prompt": prompt, "seed": scene_seed, "width": story.image_size, "height": story.image_size}
        if story.image_steps:
            image_args["steps"] = story.image_steps
        steps.append(PlanStep(id=f"{prefix}image-{i}", tool="generate_image", args=image_args, intent=prompt))
        steps.append(PlanStep(id=f"{prefix}speech-{i}", tool="speak", intent=scene.narration,
                              args={"text": scene.narration, "seed": scene_seed, **voice}))
    scenes = [{"image": {"$ref": f"{prefix}image-{i}.image"}, "audio": {"$ref": f"{prefix}speech-{i}.audio"},
               "text": s.narration} for i, s in enumerate(board.scenes, start=1)]
    steps.append(PlanStep(
        id=f"{prefix}video", tool="compose_story", intent=board.title,
        args={"scenes": scenes, "width": story.video_size, "height": story.video_size, "fps": story.video_fps},
    ))
    return Plan(kind="story", source="recipe", steps=steps)
