"""Fitting a description into its gap: synthesise, measure, and give ground in a fixed order.

The word budget (gap seconds x words per second) trims the text first. Then each try is one `speak`
call with `max_seconds`, which measures the natural take and speeds it up (at most 1.15x) if needed:
  1. the budgeted text, starting LEAD_S after the speech before it;
  2. the same text starting earlier, at the gap's very start;
  3. and 4. the same two places with a shorter text (SHORTER of the words);
  5. else the cue is *extended*: spoken at natural pace from the gap's start, delivered only in the
     extended track (a player pauses the video for it), never mixed over the programme.
A cue always starts inside its gap, at or before the shots it describes, and ends TAIL_S before the
next speech.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.narrate.describe import budget_words
from agent.narrate.steps import call_tool
from agent.narrate.types import NarrationContext
from tools.base import ToolError
from tools.narration.gaps import Gap

LEAD_S = 0.3  # a breath after the dialogue before the describer speaks
TAIL_S = 0.2  # ...and before the dialogue resumes
SHORTER = 0.6
MIN_WORDS = 3


@dataclass
class AdCue:
    """One description: where it plays, what it says, its audio asset and how it was fitted."""

    start: float
    duration: float
    text: str
    gap: Gap
    audio: str  # asset id of the synthesised speech
    extended: bool = False
    speed: float = 1.0
    how: str = "natural"  # natural | faster | earlier | shortened | extended
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> float:
        return self.start + self.duration

    def manifest(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "duration": round(self.duration, 3), "end": round(self.end, 3),
                "text": self.text, "extended": self.extended, "speed": self.speed, "fitted_by": self.how,
                "gap": self.gap.as_dict(), **self.checks}


def word_budget(gap: Gap, words_per_second: float) -> int:
    return max(1, int(gap.seconds * words_per_second))


def tries(text: str, gap: Gap) -> list[tuple[str, float, str]]:
    """(text, start, how) in the order they are tried; a gap at the file's start has no lead."""
    late = gap.start + LEAD_S if gap.start > 0 else gap.start
    words = len(text.split())
    short = budget_words(text, max(MIN_WORDS, int(words * SHORTER)))
    places = [(late, "natural"), (gap.start, "earlier")] if late > gap.start else [(gap.start, "natural")]
    out = [(text, start, how) for start, how in places]
    if short != text:
        out += [(short, start, "shortened") for start, _ in places]
    return out


def fit_cue(ctx: NarrationContext, prefix: str, text: str, gap: Gap, seed: int = 0) -> AdCue:
    """The first try that fits its slot, else an extended cue; ToolError only if nothing can be spoken."""
    budgeted = budget_words(text, word_budget(gap, ctx.rt.settings.narration.words_per_second))
    for n, (words, start, how) in enumerate(tries(budgeted, gap)):
        slot = gap.end - TAIL_S - start
        if slot <= 0.3:
            continue
        try:
            out = call_tool(ctx, f"{prefix}-say{n}", "speak", {"text": words, "seed": seed,
                                                               "max_seconds": round(slot, 3)})
        except ToolError as exc:
            if "over by" not in str(exc):
                raise
            continue
        speed = float(out.values.get("speed", 1.0))
        how = "faster" if how == "natural" and speed > 1.0 else how
        return AdCue(start, float(out.values["duration"]), words, gap, out.outputs["audio"], speed=speed, how=how)
    out = call_tool(ctx, f"{prefix}-sayx", "speak", {"text": budgeted, "seed": seed})
    return AdCue(gap.start, float(out.values["duration"]), budgeted, gap, out.outputs["audio"], extended=True,
                 how="extended")


def respeak_slower(ctx: NarrationContext, prefix: str, cue: AdCue, speed: float, seed: int = 0) -> AdCue | None:
    """The cue spoken at `speed` in the same place, or None when that no longer fits its slot."""
    args: dict[str, Any] = {"text": cue.text, "seed": seed, "speed": speed}
    if not cue.extended:
        args["max_seconds"] = round(cue.gap.end - TAIL_S - cue.start, 3)
    try:
        out = call_tool(ctx, f"{prefix}-slow", "speak", args)
    except ToolError:
        return None
    if not cue.extended and float(out.values.get("speed", speed)) > speed:
        return None  # it only fitted by speeding up again: no slower than before
    return AdCue(cue.start, float(out.values["duration"]), cue.text, cue.gap, out.outputs["audio"],
                 extended=cue.extended, speed=float(out.values.get("speed", speed)), how=cue.how)
