"""Revision: a failing asset is made again, a little differently each round.

Images: round 1 tries a new seed; round 2 also rewrites the prompt from the critic's reasons (by the
LLM, or, with no LLM, by putting the scene's own description first so it weighs more); round 3 and
later also double the denoising steps. A picture made from a reference picture (a banked character)
also moves less from it each round (strength 0.15 lower, never under 0.2).
Narration: each round speaks 10% slower (never under 0.7x)
with a new seed; the text is kept, since the subtitles and the storybook show it. Every candidate
is a new step (`image-2~r1`) whose asset records the candidate it revises as its parent.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.executor import Executor
from agent.llm import LLM, ask_model
from agent.plan_schema import Plan, PlanStep, candidate_id, original_step
from memory import repo

STRATEGIES = ("new seed", "new seed + rewritten prompt", "new seed + rewritten prompt + more steps")


class Rewrite(BaseModel):
    prompt: str = Field(min_length=10, max_length=400)


def revised_args(tool: str, args: dict[str, Any], round_no: int, reasons: list[str],
                 llm: LLM | None) -> dict[str, Any]:
    """The arguments of round `round_no`'s candidate (strategies accumulate)."""
    new = {**args, "seed": (args.get("seed") or 0) + 7919 * round_no}
    if tool == "speak":  # a slower voice is easier to hear back; the words stay those of the script
        return {**new, "speed": round(max(0.7, args.get("speed", 1.0) - 0.1 * round_no), 2)}
    if args.get("reference") and args.get("strength"):  # closer to the reference picture: stronger conditioning
        new["strength"] = round(max(0.2, args["strength"] - 0.15 * round_no), 2)
    if round_no >= 2:
        new["prompt"] = rewrite_prompt(args["prompt"], reasons, llm, seed=new["seed"])
    if round_no >= 3:
        new["steps"] = min(100, 2 * (args.get("steps") or 4))
    return new


def rewrite_prompt(prompt: str, reasons: list[str], llm: LLM | None, *, seed: int) -> str:
    """A prompt that states its subject more strongly; the LLM writes it when one answers."""
    messages = [
        {"role": "system", "content": "You improve prompts for an image generator. Answer only with JSON."},
        {"role": "user", "content": f"Prompt: {prompt}\nA critic said: {' '.join(reasons)}\n"
                                    "Rewrite the prompt so the main subject is unmistakable. Keep the characters."},
    ]
    answer = ask_model(llm, messages, Rewrite, seed=seed).value
    if answer is not None:
        return answer.prompt
    subject = prompt.split(".")[0].strip()
    return f"{subject}, {subject}. {prompt}"[:2000]


def revise(executor: Executor, run_id: str, state: dict[str, Any], llm: LLM | None) -> dict[str, Any]:
    """Make one new candidate for every failing step; returns the updated candidate lists."""
    round_no = state.get("round", 0) + 1
    plan = {s["id"]: s for s in state["plan"]["steps"]}
    candidates = {k: list(v) for k, v in state["candidates"].items()}
    steps = []
    for step_id in state["failing"]:
        parent = state["winners"][step_id]
        args = revised_args(plan[step_id]["tool"], plan[step_id]["args"], round_no,
                            state["verdicts"][parent]["reasons"], llm)
        steps.append(PlanStep(id=candidate_id(step_id, round_no), tool=plan[step_id]["tool"], args=args,
                              intent=plan[step_id]["intent"]))
    executor.emit({"type": "stage", "stage": "revise",
                   "detail": f"round {round_no}: {STRATEGIES[min(round_no, 3) - 1]} for {', '.join(state['failing'])}"})
    outcomes = executor.run_wave(Plan(kind="story", steps=steps), {})
    for outcome in outcomes:
        step_id = original_step(outcome.step_id)
        if outcome.status != "succeeded":  # a failed candidate is recorded on its step; the winner stands
            continue
        new_asset = next(iter(outcome.outputs.values()))
        with executor.db.session() as s:
            repo.update_asset(s, new_asset, parent_id=state["winners"][step_id])
        candidates[step_id].append(new_asset)
    return {"candidates": candidates, "round": round_no}
