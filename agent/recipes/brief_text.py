"""The words of a brief that nobody gave: voice-overs and story storyboards, written by the LLM.

A voice-over is one schema-constrained answer, checked like a story scene (English prose, not our
instructions echoed back) and cut to what fits its time slot; when the LLM cannot answer, or answers
badly, the brief's goal said plainly is the voice-over. Stories use the story recipe's writer and its
own fallbacks. What was written, and by whom, is returned for the run's record.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from agent.llm import LLM, ask_model
from agent.plan_schema import Plan
from agent.recipes.brief import Brief, NarrationSpec, StorySpec, compile_brief, default_voiceover, story_request
from agent.recipes.story import write_storyboard
from agent.recipes.storyboard import Storyboard
from agent.settings import StorySettings
from agent.text_checks import debris, repaired
from tools.engines.llm import english_ratio

SYSTEM = "You write short voice-overs for product and campaign videos. Answer only with JSON."
WORDS_PER_SECOND = 2.4  # a calm narrator; hibari at speed 1.0 says about 2.5


class VoiceOver(BaseModel):
    text: str = Field(min_length=20, max_length=600)


@dataclass
class BriefText:
    """What the LLM wrote for a brief (by deliverable position) and where each piece came from."""

    texts: dict[int, str] = field(default_factory=dict)
    boards: dict[int, Storyboard] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)  # position -> llm | mixed | fallback | given
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """JSON for the run's info."""
        return {"texts": {str(k): v for k, v in self.texts.items()},
                "boards": {str(k): b.model_dump() for k, b in self.boards.items()},
                "sources": {str(k): v for k, v in self.sources.items()}, "notes": self.notes}


def write_brief_text(llm: LLM | None, brief: Brief, *, seed: int, max_tokens: int = 160,
                     progress: Callable[[str], None] = lambda _: None) -> BriefText:
    """Voice-overs for narrations without text and storyboards for stories."""
    out = BriefText()
    for index, item in enumerate(brief.deliverables):
        if isinstance(item, NarrationSpec):
            if item.text:
                out.sources[index] = "given"
                continue
            progress(f"writing the voice-over of deliverable {index}")
            out.texts[index], out.sources[index] = write_voiceover(llm, brief, item, seed=seed + index,
                                                                   max_tokens=max_tokens, notes=out.notes)
        elif isinstance(item, StorySpec):
            progress(f"writing the storyboard of deliverable {index}")
            result = write_storyboard(llm, story_request(brief, item), item.scenes, seed=seed + 100 * (index + 1),
                                      max_tokens=max_tokens, progress=progress)
            out.boards[index], out.sources[index] = result.storyboard, result.source
            out.notes += [f"deliverable {index}: {note}" for note in result.notes]
    return out


def write_voiceover(llm: LLM | None, brief: Brief, spec: NarrationSpec, *, seed: int, max_tokens: int,
                    notes: list[str]) -> tuple[str, str]:
    """(text, "llm" or "fallback"); the text fits `spec.max_seconds` at a calm pace."""
    fallback = fit_words(default_voiceover(brief), spec.max_seconds)
    if llm is None:
        return fallback, "fallback"
    problem = ""
    for attempt in range(2):  # template debris is asked again once, then repaired, then replaced
        answer = ask_model(llm, _messages(brief, spec), VoiceOver, seed=seed + attempt, max_tokens=max_tokens)
        if answer.value is None:
            notes.append(f"voice-over: the LLM could not write it ({answer.problem}); used the goal")
            return fallback, "fallback"
        text = " ".join(answer.value.text.split())
        if not (problem := _problem(text)):
            return fit_words(text, spec.max_seconds), "llm"
        if not debris(text):
            break
    if debris(text) and (fixed := repaired(text)) and not _problem(fixed):
        notes.append(f"voice-over: {problem}; repaired")
        return fit_words(fixed, spec.max_seconds), "llm"
    notes.append(f"voice-over: {problem}; used the goal")
    return fallback, "fallback"


def _messages(brief: Brief, spec: NarrationSpec) -> list[dict[str, str]]:
    lines = [f"Goal: {brief.goal}"]
    if brief.audience:
        lines.append(f"Audience: {brief.audience}")
    if brief.style:
        lines.append(f"Style: {brief.style}")
    length = f"at most {max(4, int(spec.max_seconds * WORDS_PER_SECOND))} words" if spec.max_seconds \
        else "two or three sentences"
    lines.append(f"Write the voice-over, {length}, spoken to the audience. `text`: only the words to say.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def _problem(text: str) -> str:
    if found := debris(text):
        return f"the LLM's voice-over has template debris ({', '.join(found)})"
    lowered = text.lower()
    if any(marker in lowered for marker in ("voice-over,", "json", "goal:", "audience:")):
        return "the LLM echoed the instructions"
    if len(set(lowered.split())) < 5:
        return "the LLM's voice-over is too short"
    if english_ratio(lowered) < 0.75:
        return "the LLM's voice-over is not English prose"
    return ""


def fit_words(text: str, max_seconds: float | None) -> str:
    """Whole sentences that fit `max_seconds` at a calm pace (at least the first words, cut at a word)."""
    if not max_seconds:
        return text
    budget = max(3, int(max_seconds * WORDS_PER_SECOND))
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if len(" ".join([*kept, sentence]).split()) > budget:
            break
        kept.append(sentence)
    if kept:
        return " ".join(kept)
    return " ".join(text.split()[:budget]).rstrip(",;:") + "."


def plan_brief(llm: LLM | None, brief: Brief, story: StorySettings, *, seed: int,
               progress: Callable[[str], None] = lambda _: None) -> tuple[Plan, BriefText]:
    """The brief's plan and the text written for it."""
    text = write_brief_text(llm, brief, seed=seed, max_tokens=story.llm_max_new_tokens, progress=progress)
    return compile_brief(brief, story, seed=seed, texts=text.texts, boards=text.boards), text

