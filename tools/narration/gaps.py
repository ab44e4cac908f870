"""Where speech is, and the pauses between it that are long enough for an audio description.

Speech intervals come from Silero VAD (shipped with faster-whisper) on the original soundtrack: its
edges are accurate to a 32 ms frame, while whisper's word timings drift by a few hundred ms (tiny.en
stretches the first word back towards the file's start). So VAD sets the edges, and a word the
recogniser heard where the VAD found nothing is added as speech of its own: either one is enough
to keep a description off it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VAD_RATE = 16000
# Tight padding: a description starts EDGE_S after speech anyway, and VAD's default 400 ms padding
# would shrink every gap by 0.8 s. 250 ms of silence inside a sentence does not split it.
VAD_PAD_MS = 100
VAD_MIN_SILENCE_MS = 250

Interval = tuple[float, float]


@dataclass(frozen=True)
class Gap:
    """A pause in speech, [start, end] seconds; the start and end of the file count as edges."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def as_dict(self) -> dict[str, float]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "seconds": round(self.seconds, 3)}


def vad_intervals(audio: np.ndarray, rate: int = VAD_RATE) -> list[Interval]:
    """Speech intervals (seconds) found by Silero VAD in mono audio at 16 kHz."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if rate != VAD_RATE:
        raise ValueError(f"vad_intervals needs {VAD_RATE} Hz audio, got {rate} Hz")
    if len(audio) == 0:
        return []
    options = VadOptions(min_silence_duration_ms=VAD_MIN_SILENCE_MS, speech_pad_ms=VAD_PAD_MS)
    found = get_speech_timestamps(np.asarray(audio, dtype=np.float32), options)
    return [(s["start"] / rate, s["end"] / rate) for s in found]


def merge_intervals(intervals: list[Interval], join_s: float = 0.0) -> list[Interval]:
    """Sorted, overlapping (or closer than `join_s`) intervals joined; empty ones dropped."""
    merged: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1] + join_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def find_gaps(speech: list[Interval], duration: float, min_gap_s: float) -> tuple[list[Gap], list[Gap]]:
    """The pauses between `speech` (and the file's edges), split into (usable, missed): a usable gap
    lasts at least `min_gap_s`; shorter non-empty pauses are reported as missed."""
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration}")
    if min_gap_s <= 0:
        raise ValueError(f"min_gap_s must be positive, got {min_gap_s}")
    edges = [0.0]
    for start, end in merge_intervals([(max(0.0, s), min(duration, e)) for s, e in speech]):
        edges += [start, end]
    edges.append(duration)
    pauses = [Gap(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i + 1] - edges[i] > 1e-3]
    return [g for g in pauses if g.seconds >= min_gap_s], [g for g in pauses if g.seconds < min_gap_s]


def overlaps(a: Interval, b: Interval, tolerance: float = 0.0) -> bool:
    """Whether the intervals share more than `tolerance` seconds."""
    return min(a[1], b[1]) - max(a[0], b[0]) > tolerance


def speech_intervals(vad: list[Interval], words: list[dict]) -> list[Interval]:
    """VAD's intervals plus the recogniser's words that lie outside all of them (see the module docstring)."""
    heard = words_intervals(words)
    extra = [w for w in heard if not any(overlaps(w, v) for v in vad)]
    return merge_intervals(vad + extra)


def words_intervals(words: list[dict]) -> list[Interval]:
    """Speech intervals from the recogniser's word timings (`{"start", "end"}` seconds each)."""
    return merge_intervals([(float(w["start"]), float(w["end"])) for w in words], join_s=VAD_MIN_SILENCE_MS / 1000)
