"""The critic's checks on audio description cues: off speech, heard right, written right.

- Off speech: VAD is run again, independently of gap finding, on the ORIGINAL soundtrack (the mix's
  programme part before ducking) and every mixed cue is held against the speech it finds. Not on the
  finished mix itself: there the descriptions are speech too, so every cue would "overlap"; and not
  on the ducked programme, where the 10+ LU lowering can push dialogue under the VAD's threshold
  exactly where an overlap would be, hiding it. The ducking gain is the only difference between the
  two, so the speech found in the original is the speech in the mix's programme part.
- Heard right: each cue's own audio goes through the `narration_wer` tool (whisper back to text,
  normalised WER). A cue over the limit is spoken once more, slower; if it still fails it is flagged.
- Written right: `style_problems` on every cue text.
"""
from __future__ import annotations

import numpy as np

from agent.narrate.fit import AdCue, respeak_slower
from agent.narrate.gaps import overlaps, vad_intervals
from agent.narrate.steps import call_tool
from agent.narrate.style import style_problems
from agent.narrate.types import NarrationContext
from tools.base import ToolError

SLOWER = 0.9
OVERLAP_TOLERANCE_S = 0.05  # VAD frames are 32 ms; less than that is measurement noise


def speech_overlaps(original16k: np.ndarray, cues: list[AdCue]) -> list[str]:
    """One warning per mixed cue that overlaps speech the VAD finds in the original soundtrack."""
    speech = vad_intervals(original16k)
    return [f"cue at {c.start:.2f} s overlaps speech at {s:.2f}-{e:.2f} s" for c in cues if not c.extended
            for s, e in speech if overlaps((c.start, c.end), (s, e), OVERLAP_TOLERANCE_S)]


def cue_wer(ctx: NarrationContext, step_id: str, cue: AdCue, context: str | None) -> float:
    args = {"text": cue.text, "audio": cue.audio, **({"context": context[:1000]} if context else {})}
    return float(call_tool(ctx, step_id, "narration_wer", args).values["narration_wer"])


def round_trip(ctx: NarrationContext, prefix: str, cues: list[AdCue], context: str | None) -> tuple[list[AdCue],
                                                                                                    list[str]]:
    """Every cue's round-trip WER recorded in its checks; failing cues re-spoken slower once, then flagged."""
    limit = ctx.rt.settings.narration.max_cue_wer
    checked, warnings = [], []
    for n, cue in enumerate(cues):
        try:
            score = cue_wer(ctx, f"{prefix}-c{n}-wer", cue, context)
            if score > limit and (slower := respeak_slower(ctx, f"{prefix}-c{n}", cue, SLOWER * cue.speed)):
                again = cue_wer(ctx, f"{prefix}-c{n}-wer2", slower, context)
                cue, score = (slower, again) if again < score else (cue, score)
        except ToolError as exc:
            warnings.append(f"cue at {cue.start:.2f} s: round trip not checked: {exc}")
            checked.append(cue)
            continue
        cue.checks["wer"] = round(score, 4)
        if score > limit:
            cue.checks["flagged"] = True
            warnings.append(f"cue at {cue.start:.2f} s comes back from speech recognition with WER {score:.0%} "
                            f"(allowed {limit:.0%}): {cue.text!r}")
        checked.append(cue)
    return checked, warnings


def style_warnings(cues: list[AdCue]) -> list[str]:
    return [f"cue at {c.start:.2f} s: {problem}" for c in cues for problem in style_problems(c.text)]


def wer_summary(cues: list[AdCue]) -> dict[str, float]:
    values = [c.checks["wer"] for c in cues if "wer" in c.checks]
    if not values:
        return {}
    return {"cue_wer_max": round(max(values), 4), "cue_wer_mean": round(float(np.mean(values)), 4),
            "cues_over_wer": float(sum(c.checks.get("flagged", False) for c in cues))}
