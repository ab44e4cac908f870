"""Audio helpers shared by the speech and compose tools: resampling, decoding, silence, ducking."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.base import ToolError
from tools.media import read_wav

SILENCE_DB = -45.0  # below this (dBFS, per sample) a tail counts as silence, never as speech


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Mono audio converted from `src_rate` to `dst_rate` by linear interpolation (plenty for speech)."""
    if src_rate == dst_rate or len(audio) == 0:
        return np.asarray(audio, dtype=np.float32)
    count = max(1, round(len(audio) * dst_rate / src_rate))
    positions = np.arange(count) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def read_audio(path: Path, label: str) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate of any audio file (WAV/FLAC/OGG by soundfile, else MP3/AAC by PyAV).

    `label` names the asset in the ToolError raised for unreadable or empty audio.
    """
    try:
        audio, rate = read_wav(path)
    except (RuntimeError, OSError, ValueError):  # soundfile's errors are RuntimeErrors
        audio, rate = _decode_with_av(path, label)
    if len(audio) == 0:
        raise ToolError(f"{label} is empty (no samples)")
    return audio.astype(np.float32), rate


def _decode_with_av(path: Path, label: str) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ToolError(f"{label}: cannot read audio: the file has no audio stream")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate
            mono = av.AudioResampler(format="fltp", layout="mono", rate=rate)
            chunks = [f.to_ndarray()[0] for frame in container.decode(stream) for f in mono.resample(frame)]
            chunks += [f.to_ndarray()[0] for f in mono.resample(None)]
    except av.FFmpegError as exc:
        raise ToolError(f"{label}: cannot read audio: {exc}") from None
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), int(rate)


def trailing_silence(audio: np.ndarray, floor_db: float = SILENCE_DB) -> int:
    """How many samples at the end are all quieter than `floor_db` dBFS."""
    loud = np.flatnonzero(np.abs(audio) > 10 ** (floor_db / 20))
    return len(audio) if len(loud) == 0 else len(audio) - 1 - int(loud[-1])


def looped(audio: np.ndarray, start: int, count: int) -> np.ndarray:
    """Samples [start, start + count) of `audio` repeated end to end forever (a looped soundtrack)."""
    return audio[(start + np.arange(count)) % len(audio)]


def duck_gain(start: int, count: int, rate: int, spans: list[tuple[float, float]], duck_db: float,
              ramp: float = 0.2) -> np.ndarray:
    """Gain for samples [start, start + count): -duck_db inside `spans` (seconds), 0 dB outside.

    The level ramps linearly in dB over `ramp` seconds, down before a span starts and up after it
    ends, so the narration's first syllable already sits over the lowered music and nothing clicks.
    """
    t = (start + np.arange(count)) / rate
    depth = np.zeros(count)
    if count == 0:
        return depth.astype(np.float32)
    for begin, end in spans:
        if begin - ramp < t[-1] and end + ramp > t[0]:
            rise = np.clip((t - (begin - ramp)) / ramp, 0.0, 1.0)
            fall = np.clip(((end + ramp) - t) / ramp, 0.0, 1.0)
            depth = np.maximum(depth, np.minimum(rise, fall))
    return (10 ** (-duck_db * depth / 20)).astype(np.float32)
