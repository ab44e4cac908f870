"""The story recipe: the LLM writes a storyboard, the recipe compiles it into a plan.

The embedded 135M model is weak and repeats itself when asked for everything at once, so it is asked
for one thing at a time: first a title and a character sheet, then each scene with the story so far
in the prompt. Every answer is schema-constrained JSON. A scene the model botches (empty, a copy of
an earlier scene, our own instructions echoed back) is asked for once more with another seed, then
replaced by the deterministic scene; when the model cannot answer at all, the whole storyboard is
the deterministic one. Either way the run records where each part came from.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from agent.llm import LLM, ask_model
from agent.plan_schema import Plan, PlanStep
from agent.recipes.fallback import fallback_scene, fallback_storyboard
from agent.recipes.storyboard import Character, Scene, Storyboard
from agent.settings import StorySettings
from tools.engines.llm import english_ratio

SYSTEM = "You are a children's author who writes short, vivid picture-book stories. Answer only with JSON."


class CastAnswer(BaseModel):
    title: str = Field(min_length=3, max_length=60)
    characters: list[Character] = Field(min_length=1, max_length=3)


class SceneAnswer(BaseModel):
    narration: str = Field(min_length=20, max_length=260)
    picture: str = Field(min_length=10, max_length=140)


@dataclass
class StoryboardResult:
    """The storyboard plus where it came from (`llm`, `mixed` or `fallback`) and why."""

    storyboard: Storyboard
    source: str
    notes: list[str] = field(default_factory=list)


def write_storyboard(llm: LLM | None, request: str, scenes: int, *, seed: int,
                     progress: Callable[[str], None] = lambda _: None,
                     max_tokens: int = 160, known: str = "") -> StoryboardResult:
    """Ask the LLM for a title, cast and `scenes` scenes; fall back deterministically where it fails.
    `known` lists characters an earlier story of the same chat session introduced."""
    if llm is None:
        return StoryboardResult(fallback_storyboard(request, scenes), "fallback", ["no LLM configured"])
    progress("writing the title and characters")
    answer = ask_model(llm, _cast_messages(request, known), CastAnswer, seed=seed, max_tokens=max_tokens)
    if answer.value is None:
        reason = f"the LLM could not write the cast: {answer.problem}"
        return StoryboardResult(fallback_storyboard(request, scenes), "fallback", [reason])
    cast = answer.value
    board = Storyboard(title=cast.title.strip(), characters=cast.characters, scenes=[])
    notes: list[str] = []
    for index in range(scenes):
        progress(f"writing scene {index + 1} of {scenes}")
        board.scenes.append(_write_scene(llm, request, board, index, scenes, seed, notes, max_tokens))
    source = "mixed" if notes else "llm"
    return StoryboardResult(board, source, notes)


def _write_scene(llm: LLM, request: str, board: Storyboard, index: int, total: int, seed: int,
                 notes: list[str], max_tokens: int) -> Scene:
    problem = ""
    for attempt in range(2):
        asked = ask_model(llm, _scene_messages(request, board, index, total), SceneAnswer,
                          seed=seed + 1000 * (attempt + 1) + index, max_tokens=max_tokens)
        if asked.value is None:
            problem = asked.problem
            continue
        scene = Scene(narration=asked.value.narration.strip(), picture=asked.value.picture.strip())
        problem = scene_problem(scene, board)
        if not problem:
            return scene
    notes.append(f"scene {index + 1}: used the deterministic scene ({problem})")
    return fallback_scene(request, index, total)


def scene_problem(scene: Scene, board: Storyboard) -> str:
    """Why a generated scene is unusable, or '' when it is fine."""
    text = scene.narration.lower()
    if any(marker in text for marker in ("sentences of narration", "scene ", "json", "continue the story")):
        return "the model echoed the instructions"
    if any(_overlap(text, s.narration.lower()) > 0.6 for s in board.scenes):
        return "the model repeated an earlier scene"
    if len(set(text.split())) < 5:
        return "the narration is too short"
    if english_ratio(text) < 0.75:
        return "the narration is not English prose"
    return ""


def _overlap(a: str, b: str) -> float:
    """Share of a's words that also appear in b (a crude repetition detector)."""
    words = a.split()
    return sum(w in set(b.split()) for w in words) / max(len(words), 1)


def _cast_messages(request: str, known: str = "") -> list[dict[str, str]]:
    user = (f'Story request: "{request}"\n'
            "Give the story a short title and its main characters (one to three). For each character give "
            "a name and how they look: species or age, clothes and colours.")
    if known:  # only when there are some, so the messages (and the LLM cache) of a lone story are unchanged
        user += f"\nCharacters from earlier stories in this conversation (keep their looks if they appear): {known}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _scene_messages(request: str, board: Storyboard, index: int, total: int) -> list[dict[str, str]]:
    stage = "beginning" if index == 0 else "ending" if index == total - 1 else "middle"
    lines = [f'Story request: "{request}"', f"Title: {board.title}", f"Characters: {board.character_sheet()}"]
    if board.scenes:
        lines.append("The story so far: " + " ".join(s.narration for s in board.scenes))
    lines.append(f"Now write part {index + 1} of {total}, the {stage} of the story. `narration`: two or three "
                 "new sentences read aloud to a child. `picture`: what the illustration shows.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def compile_plan(board: Storyboard, story: StorySettings, *, seed: int, prefix: str = "") -> Plan:
    """One image and one narration per scene, then the video that puts them together. `prefix` goes
    before every step id, so a story can sit inside a larger plan (a brief) without clashing."""
    steps: list[PlanStep] = []
    for i, scene in enumerate(board.scenes, start=1):
        prompt = board.image_prompt(scene)
        image_args = {"prompt": prompt, "seed": seed + i, "width": story.image_size, "height": story.image_size}
        if story.image_steps:
            image_args["steps"] = story.image_steps
        steps.append(PlanStep(id=f"{prefix}image-{i}", tool="generate_image", args=image_args, intent=prompt))
        steps.append(PlanStep(id=f"{prefix}speech-{i}", tool="speak", args={"text": scene.narration, "seed": seed + i},
                              intent=scene.narration))
    scenes = [{"image": {"$ref": f"{prefix}image-{i}.image"}, "audio": {"$ref": f"{prefix}speech-{i}.audio"},
               "text": s.narration} for i, s in enumerate(board.scenes, start=1)]
    steps.append(PlanStep(
        id=f"{prefix}video", tool="compose_story", intent=board.title,
        args={"scenes": scenes, "width": story.video_size, "height": story.video_size, "fps": story.video_fps},
    ))
    return Plan(kind="story", source="recipe", steps=steps)
