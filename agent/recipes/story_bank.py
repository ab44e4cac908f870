"""Banked entities in a story (issue 15). Characters: their looks go into the storyboard's cast (so into
every picture prompt), their reference pictures condition the picture steps (image-to-image, `reference`
and `strength` in the step's arguments, so in the plan and in the asset's lineage), and their voices
speak the scenes they lead. A banked place the request names becomes the setting; a banked style's
prompt text ends every picture prompt."""
from __future__ import annotations

from typing import Any

from agent.plan_schema import Plan, PlanStep
from agent.recipes.storyboard import Character, Scene, Storyboard


def apply_bank(board: Storyboard, banked: list[dict[str, Any]]) -> Storyboard:
    """The board with each banked character's name and look; one the rules did not find joins the cast."""
    cast = list(board.characters)
    for entity in banked:
        look = (entity["look"] or "a storybook character")[:120]
        match = next((i for i, c in enumerate(cast) if _bare(c.name) == entity["name"].lower()), None)
        character = Character(name=entity["name"][:40], look=look if len(look) >= 3 else "a storybook character")
        if match is None:
            cast.insert(0, character)
        else:
            cast[match] = character
    return board.model_copy(update={"characters": cast[:6]})


def _bare(name: str) -> str:
    words = name.lower().split()
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def lead_character(scene: Scene, bank: dict[str, dict[str, Any]]) -> str | None:
    """The banked character a scene is about: the first one its narration names, else the story's first."""
    text = scene.narration.lower()
    named = [(text.find(name.lower()), name) for name in bank if name.lower() in text]
    return min(named)[1] if named else next(iter(bank), None)


def condition_plan(plan: Plan, board: Storyboard, bank: dict[str, dict[str, Any]], *, prefix: str = "") -> Plan:
    """`bank`: character name -> {"reference": the run's asset id or None, "strength": float, "voice"}.
    Each scene's picture starts from its lead character's reference picture; its speech takes that
    character's voice."""
    if not bank:
        return plan
    steps: list[PlanStep] = []
    for step in plan.steps:
        index = _scene_index(step.id, prefix)
        entry = bank.get(lead_character(board.scenes[index - 1], bank) or "") if index else None
        steps.append(step.model_copy(update={"args": _conditioned(step, entry)}) if entry else step)
    return plan.model_copy(update={"steps": steps})


def _conditioned(step: PlanStep, entry: dict[str, Any]) -> dict[str, Any]:
    args = dict(step.args)
    if step.tool == "generate_image" and entry.get("reference"):
        args.update(reference=entry["reference"], strength=entry["strength"])
    if step.tool == "speak" and entry.get("voice"):
        args["voice"] = entry["voice"]
    return args


def _scene_index(step_id: str, prefix: str) -> int:
    """1 for 'image-1' or 'speech-1' (after the prefix), 0 for any other step."""
    name = step_id[len(prefix):] if step_id.startswith(prefix) else ""
    head, _, number = name.partition("-")
    return int(number) if head in ("image", "speech") and number.isdigit() else 0


def apply_place(board: Storyboard, places: list[dict[str, Any]]) -> Storyboard:
    """The first banked place the request names is the story's setting (its look, else its name)."""
    if not places:
        return board
    return board.model_copy(update={"setting": (places[0]["look"] or places[0]["name"])[:120]})


def apply_styles(plan: Plan, styles: list[dict[str, Any]]) -> Plan:
    """Every picture prompt ends with the banked styles' prompt text."""
    text = " ".join(f"Style: {s['look'].rstrip('.')}." for s in styles if s["look"])
    if not text:
        return plan
    steps = [step.model_copy(update={"args": {**step.args, "prompt": f"{step.args['prompt']} {text}"[:2000]}})
             if step.tool == "generate_image" else step for step in plan.steps]
    return plan.model_copy(update={"steps": steps})
