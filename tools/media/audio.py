"""Audio helpers shared by the speech and compose tools: WAV in and out, decoding any audio, resampling,
silence, looping and ducking."""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np

from tools.base import ToolError

SILENCE_DB = -45.0  # below this (dBFS, per sample) a tail counts as silence, never as speech


def encode_wav(audio: np.ndarray, rate: int) -> bytes:
    """Mono float audio in [-1, 1] as 16-bit PCM WAV bytes."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate of an audio file (multi-channel is averaged).
    A WAV cut short is refused: libsndfile would silently return only the samples that remain."""
    import soundfile as sf

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    missing = wav_missing_bytes(path)
    if missing:
        raise ToolError(f"audio file {path.name} is truncated: its header promises {missing} more bytes of samples")
    return audio.mean(axis=1), int(rate)


def wav_missing_bytes(path: Path) -> int:
    """How many bytes of the `data` chunk a RIFF/WAVE file lacks (0 when whole, or not a WAV)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(12)[8:12] != b"WAVE":
            return 0
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            kind, length = struct.unpack("<4sI", f.read(8))
            if kind == b"data":
                # Streaming writers put 0 or 0xFFFFFFFF when the length was unknown: not truncation.
                declared = 0 if length in (0, 0xFFFFFFFF) else length
                return max(0, offset + 8 + declared - size)
            offset += 8 + length + (length & 1)
    return 0


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
