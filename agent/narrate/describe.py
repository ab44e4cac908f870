"""What to say in a gap: the shots on screen during it, captioned, written as an objective cue.

One decoding pass samples the video every SAMPLE_S seconds; a shot change is a jump in the mean
pixel difference of small grey thumbnails. Each gap's shots (at most MAX_SHOTS, their middle
frames) are captioned by the `caption_image` tool; the LLM may rewrite the captions into one cue
within the word budget, naming the sidecar's cast only as given. Anything the LLM writes that
breaks a style rule or the budget is dropped for the deterministic text (the cleaned captions).
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from agent.llm import ask_model
from agent.narrate.steps import executor, import_file
from agent.narrate.types import NarrationContext
from agent.plan_schema import Plan, PlanStep
from tools.base import ToolError
from tools.narration.gaps import Gap
from tools.narration.style import clean, style_problems

SAMPLE_S = 0.5
# At most this many distinct pictures are held (about 250 kB each at PICTURE_PX): a longer video is
# sampled more sparsely (issue 19: a 38 kB ten-minute video made the describer hold 1,199 frames).
MAX_SAMPLES = 400
SHOT_CHANGE = 0.12  # mean absolute thumbnail difference (0..1) that starts a new shot
MAX_SHOTS = 2
THUMB = 16
PICTURE_PX = 384
LLM_MAX_TOKENS = 80


@dataclass
class Shot:
    """A run of similar frames: its time span and the middle frame (a PIL image)."""

    start: float
    end: float
    frame: Any


def sample_step(duration: float) -> float:
    """Seconds between samples: SAMPLE_S, or wider so that a video of `duration` needs MAX_SAMPLES at most."""
    return max(SAMPLE_S, duration / MAX_SAMPLES)


def sample_frames(path: Path, duration: float, step: float = SAMPLE_S) -> tuple[list[tuple[float, Any]], float]:
    """(time, PIL image) of the frame on screen at 0, step, 2 step... in one decoding pass, and the time
    the decoded pictures really end. Samples stop there, not at the claimed `duration`: a header may
    claim ten million seconds for one second of frames."""
    import av

    wanted = max(1, int(np.ceil(duration / step - 1e-6)))
    samples: list[tuple[float, Any]] = []
    shown, last = None, 0.0
    with av.open(str(path)) as box:
        if not box.streams.video:
            raise ToolError("the file has no video stream")
        stream = box.streams.video[0]
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        frame_s = 1 / float(stream.average_rate) if stream.average_rate else step
        for frame in box.decode(stream):
            t = (frame.time or 0.0) - origin
            while len(samples) < wanted and round(len(samples) * step, 3) < t - 1e-6:
                samples.append((round(len(samples) * step, 3), _picture(shown or frame)))
            shown, last = frame, max(last, t)
    if shown is None:
        raise ToolError("the video has no decodable frames")
    end = min(duration, last + frame_s)
    return hold_last(samples + [(round(len(samples) * step, 3), _picture(shown))], end, step), end


def hold_last(samples: list[tuple[float, Any]], duration: float, step: float = SAMPLE_S) -> list[tuple[float, Any]]:
    """`samples` cut or extended (the last picture held) to cover [0, duration) at `step`."""
    count = max(1, int(np.ceil(duration / step - 1e-6)))
    held = samples[:count]
    return held + [(round(i * step, 3), held[-1][1]) for i in range(len(held), count)]


def _picture(frame) -> Any:
    """A frame as a PIL image no larger than PICTURE_PX a side (captioners look at 384 px at most)."""
    image = frame.to_image()
    image.thumbnail((PICTURE_PX, PICTURE_PX))
    return image


def split_shots(samples: list[tuple[float, Any]], end: float) -> list[Shot]:
    """Consecutive samples grouped into shots at every large picture change."""
    if not samples:
        return []
    thumbs = [np.asarray(img.convert("L").resize((THUMB, THUMB)), dtype=np.float32) / 255 for _, img in samples]
    starts = [0] + [i for i in range(1, len(thumbs)) if np.abs(thumbs[i] - thumbs[i - 1]).mean() > SHOT_CHANGE]
    bounds = starts + [len(samples)]
    shots = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        stop = samples[b][0] if b < len(samples) else end
        shots.append(Shot(samples[a][0], stop, samples[(a + b - 1) // 2][1]))
    return shots


def shots_in(shots: list[Shot], gap: Gap, samples: list[tuple[float, Any]]) -> list[Shot]:
    """The shots on screen during `gap` (longest first, at most MAX_SHOTS, back in time order), each with
    a frame from inside the gap, so a cue never describes a picture shown only after it ends."""
    inside = []
    for shot in shots:
        start, end = max(shot.start, gap.start), min(shot.end, gap.end)
        frames = [img for t, img in samples if start - 1e-6 <= t < end]
        if end > start and frames:
            inside.append(Shot(start, end, frames[len(frames) // 2]))
    inside = sorted(inside, key=lambda s: s.end - s.start, reverse=True)[:MAX_SHOTS]
    return sorted(inside, key=lambda s: s.start)


def caption_shots(ctx: NarrationContext, prefix: str, shots: list[Shot]) -> list[str]:
    """One caption per shot ('' when the captioner gives nothing), all in one wave of `caption_image`
    steps, which the executor merges into one batched captioner call."""
    if ctx.cancelled():
        raise ToolError("cancelled")
    with tempfile.TemporaryDirectory(prefix="storyloom-ad-") as tmp:
        steps = []
        for n, shot in enumerate(shots):
            png = Path(tmp) / f"{prefix}-shot{n}.png"
            shot.frame.convert("RGB").save(png)
            image = import_file(ctx, png, f"{prefix}-frame{n}")
            steps.append(PlanStep(id=f"{prefix}-cap{n}", tool="caption_image", args={"image": image}))
    outcomes = {o.step_id: o for o in executor(ctx).run_wave(Plan(kind="narration", steps=steps), {})}
    return [outcomes[s.id].values.get("caption", "") if s.id in outcomes and outcomes[s.id].status == "succeeded"
            else "" for s in steps]


def colour_words(image) -> str:
    """A plain description of a frame's colour, for when the captioner says nothing."""
    r, g, b = np.asarray(image.convert("RGB").resize((8, 8)), dtype=np.float32).reshape(-1, 3).mean(axis=0)
    if max(r, g, b) < 40:
        return "A dark frame"
    if min(r, g, b) > 215:
        return "A bright white frame"
    name = {0: "red", 1: "green", 2: "blue"}[int(np.argmax([r, g, b]))]
    return f"A mostly {name} frame"


def budget_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` words (at least one), ending in a full stop; at the last sentence or
    clause end inside the limit when that keeps at least half of it, so the cut reads as a whole."""
    words = text.split()
    if len(words) <= limit:
        return text
    kept = words[:max(1, limit)]
    ends = [i for i, w in enumerate(kept) if w.endswith((".", ",", ";", ":")) and i + 1 >= len(kept) / 2]
    if ends:
        kept = kept[:ends[-1] + 1]
    return " ".join(kept).rstrip(",;:-.") + "."


def plain_cue(captions: list[str], shots: list[Shot]) -> str:
    """The deterministic cue: each shot's cleaned caption (or its colour), in time order."""
    parts = [clean(c) if c.strip() else clean(colour_words(s.frame)) for c, s in zip(captions, shots, strict=True)]
    kept = [p for p in parts if p and not style_problems(p)]
    return " ".join(kept) or clean(colour_words(shots[0].frame))


class Rewrite(BaseModel):
    description: str = Field(max_length=400)


def rewrite(ctx: NarrationContext, draft: str, limit: int, names: list[str], seed: int) -> str | None:
    """The LLM's version of `draft` in at most `limit` words, or None when it breaks a rule or the budget."""
    cast = f" People who may appear: {', '.join(names)}; name them only as given." if names else ""
    messages = [
        {"role": "system", "content": "You write audio description for blind viewers: present tense, objective, "
                                      "no feelings, no guesses, never 'we see'. Answer only with JSON."},
        {"role": "user", "content": f"Shot notes: {draft}\nWrite one description of at most {limit} words.{cast}"},
    ]
    answer = ask_model(ctx.rt.llm_for(ctx.run_id), messages, Rewrite, seed=seed, max_tokens=LLM_MAX_TOKENS).value
    if answer is None:
        return None
    text = clean(answer.description)
    if not text or style_problems(text) or len(text.split()) > limit or _repeats(text):
        return None
    return text


def _repeats(text: str) -> bool:
    """A small model's loop: one word making up over a third of a longer text."""
    words = re.findall(r"[a-z']+", text.lower())
    return len(words) > 6 and max(words.count(w) for w in set(words)) > len(words) / 3


def on_screen_note(sidecar: dict) -> str:
    """The sidecar's on-screen text read out (besides what OCR reads from the frames: the sidecar may name
    text OCR cannot read, such as a hand-written sign)."""
    text = str(sidecar.get("on_screen_text") or "").strip()
    return clean(f"On screen: {text}") if text else ""
