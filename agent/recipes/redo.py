"""Scene redo and locks: after a story run, one scene is made again and every other stays as delivered.

A redo changes one scene's seed, picture description or narration (a new seed when nothing is given)
and becomes a new story run on the earlier storyboard. The other scenes' steps are given the very
arguments of the candidates the earlier run delivered (the critic's winners), so the tool-call cache
answers them byte for byte, and the critic leaves them alone ("kept" steps). A locked scene is kept
the same way by every later run built on the storyboard: a redo, a chat edit, a revision round.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from agent.plan_schema import Plan
from agent.recipes.edit import scene_reference
from agent.recipes.storyboard import Storyboard
from tools.base import MAX_REQUEST_SEED

NEW_SEED_STEP = 104_729  # a prime: successive redos of one scene never land on an earlier seed


class Conflict(Exception):
    """The run or scene is not in a state that allows the change (HTTP 409, one line)."""


class SceneLocked(Conflict):
    """The scene is locked: nothing may change it until it is unlocked."""


@dataclass(frozen=True)
class SceneRedo:
    """What a redo of scene `scene` (1-based) changes; all None means a new seed."""

    scene: int
    seed: int | None = None
    picture: str | None = None
    narration: str | None = None

    def describe(self) -> str:
        parts = [name for name in ("seed", "picture", "narration") if getattr(self, name) is not None]
        return f"scene {self.scene}: new {', '.join(parts) or 'seed'}"

    def record(self) -> dict[str, Any]:
        return asdict(self)


def scene_steps(number: int, prefix: str = "") -> tuple[str, str]:
    """The plan steps of scene `number` (see story.compile_plan)."""
    return f"{prefix}image-{number}", f"{prefix}speech-{number}"


def check_scene(board: Storyboard, number: int, *, changing: bool = True) -> None:
    """ValueError naming `scene` when it is out of range; SceneLocked when `changing` a locked scene."""
    total = len(board.scenes)
    if not 1 <= number <= total:
        raise ValueError(f"scene: {number} is out of range; the story has scenes 1 to {total}")
    if changing and board.scenes[number - 1].locked:
        raise SceneLocked(f"scene {number} is locked")


def apply_redo(board: Storyboard, redo: SceneRedo, *, base_seed: int) -> Storyboard:
    """The storyboard with scene `redo.scene` changed as asked; every other scene as it was."""
    board = board.with_seeds(base_seed)
    check_scene(board, redo.scene)
    old = board.scenes[redo.scene - 1]
    update: dict[str, Any] = {k: v for k, v in (("picture", redo.picture), ("narration", redo.narration))
                              if v is not None}
    if redo.seed is not None:
        update["seed"] = redo.seed
    elif not update:
        update["seed"] = (old.seed + NEW_SEED_STEP) % (MAX_REQUEST_SEED + 1)
    scenes = list(board.scenes)
    scenes[redo.scene - 1] = old.model_copy(update=update)
    return board.model_copy(update={"scenes": scenes})


def kept_scenes(board: Storyboard, redo_scene: int | None = None) -> list[int]:
    """Scenes whose steps stay as delivered: the locked ones, and with a redo every scene but its own."""
    return [n for n, sc in enumerate(board.scenes, 1)
            if sc.locked or (redo_scene is not None and n != redo_scene)]


def kept_steps(info: dict[str, Any]) -> set[str]:
    """The steps of a story run that the critic must not revise (from the run's info)."""
    board = (info.get("storyboard") or {}).get("board")
    if not board:
        return set()
    redo = (info.get("redo") or {}).get("change") or {}
    numbers = kept_scenes(Storyboard.model_validate(board), redo.get("scene"))
    return {step for n in numbers for step in scene_steps(n)}


def keep_delivered(plan: Plan, delivered: dict[str, dict[str, Any]], scenes: list[int]) -> Plan:
    """The plan with the kept scenes' steps given the arguments of what the earlier run delivered."""
    keep = {step for n in scenes for step in scene_steps(n)}
    steps = [s.model_copy(update={"args": delivered[s.id]}) if s.id in keep and s.id in delivered else s
             for s in plan.steps]
    return plan.model_copy(update={"steps": steps})


_REDO = re.compile(r"^\s*(?:please\s+)?(?:redo|re-?do|regenerate|re-?draw|re-?make|re-?roll)\b(?P<rest>.*)$",
                   re.IGNORECASE)
_WITH_SEED = re.compile(r"\bwith\s+(?:a\s+|another\s+|a\s+different\s+)?(?:new\s+)?seed(?:\s+(?P<n>\d{1,10}))?\b",
                        re.IGNORECASE)


def parse_redo(message: str, *, scenes: int | None) -> SceneRedo | None:
    """A chat redo ("redo scene 2", "redo the second scene with a new seed", "redo scene 2 with seed 7"),
    or None when the message is not one. ValueError (one line) for a scene the story does not have."""
    match = _REDO.match(" ".join(message.split()))
    found = scene_reference(match.group("rest")) if match else None
    if found is None:
        return None
    rest = match.group("rest")
    leftover = _WITH_SEED.sub("", rest[:found[1][0]] + rest[found[1][1]:]).strip(" .!,")
    if leftover and leftover.lower() not in ("please", "again"):
        return None  # "redo scene 2 at night" is an edit of its picture
    if scenes is None:
        raise ValueError("there is no finished story in this session, so no scene can be redone; ask for a story first")
    number = scenes if found[0] == -1 else found[0]
    if not 1 <= number <= scenes:
        raise ValueError(f"scene {number} does not exist: the story has {scenes} scene{'s' * (scenes != 1)}")
    seed = _WITH_SEED.search(rest)
    chosen = int(seed.group("n")) if seed and seed.group("n") else None
    if chosen is not None and chosen > MAX_REQUEST_SEED:
        raise ValueError(f"seed: {chosen} is over the largest seed {MAX_REQUEST_SEED}")
    return SceneRedo(scene=number, seed=chosen)
