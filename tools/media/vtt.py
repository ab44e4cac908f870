"""WebVTT subtitles: cues from timed segments or from plain text, wrapped to subtitle line lengths."""
from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np

Cue = tuple[float, float, str]

LINE_CHARS = 42  # the usual subtitle line length limit
CUE_LINES = 2
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


def narration_cues(text: str, segments: Any, start: float, duration: float) -> list[Cue]:
    """Cues for one narrated stretch at `start`: its timed segments if usable, else `text` by sentence."""
    timed = segment_cues(segments, start, duration)
    return timed if timed else sentence_cues(text, start, start + duration)


def segment_cues(segments: Any, offset: float, duration: float) -> list[Cue]:
    """Cues from `[{"text", "start", "end"}, ...]` (seconds within the clip); [] when unusable."""
    if not isinstance(segments, list):
        return []
    cues: list[Cue] = []
    last_end = 0.0
    try:
        for seg in sorted(segments, key=lambda s: float(s["start"])):
            start = min(max(float(seg["start"]), last_end), duration)
            end = min(float(seg["end"]), duration)
            text = str(seg["text"]).strip()
            if text and end > start:
                cues.extend(split_cue(offset + start, offset + end, text))
                last_end = end
    except (TypeError, ValueError, KeyError):
        return []
    return cues


def sentence_cues(text: str, start: float, end: float) -> list[Cue]:
    """Cues for `text` spread over [start, end], each sentence's share in proportion to its length."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    return [cue for s, e, t in _share(sentences, start, end) for cue in split_cue(s, e, t)]


def split_cue(start: float, end: float, text: str) -> list[Cue]:
    """`text` wrapped to lines of LINE_CHARS; more than CUE_LINES lines become several cues."""
    lines = textwrap.wrap(" ".join(text.split()), LINE_CHARS, break_long_words=True, break_on_hyphens=False)
    chunks = ["\n".join(lines[i:i + CUE_LINES]) for i in range(0, len(lines), CUE_LINES)]
    return _share(chunks, start, end)


def _share(texts: list[str], start: float, end: float) -> list[Cue]:
    """Split [start, end] among `texts` in proportion to their character counts, ending exactly at end."""
    if not texts:
        return []
    weights = np.cumsum([max(1, len(t)) for t in texts], dtype=float)
    bounds = [start] + [start + (end - start) * w / weights[-1] for w in weights[:-1]] + [end]
    return [(float(bounds[i]), float(bounds[i + 1]), text) for i, text in enumerate(texts)]


def format_vtt(cues: list[Cue]) -> str:
    """A WebVTT document with one numbered cue per (start, end, text)."""
    blocks = ["WEBVTT"]
    for number, (start, end, text) in enumerate(cues, start=1):
        blocks.append(f"{number}\n{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n{_cue_text(text)}")
    return "\n\n".join(blocks) + "\n"


def vtt_timestamp(seconds: float) -> str:
    """Seconds as HH:MM:SS.mmm (3661.5 -> 01:01:01.500)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line; &, < and > are markup in cue text.
    lines = [line.strip() for line in text.replace("-->", "→").splitlines() if line.strip()]
    escaped = "\n".join(lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped or "…"


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (for asset intents)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
