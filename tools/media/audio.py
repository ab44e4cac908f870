"""Audio helpers shared by the speech and compose tools: WAV in and out, decoding any audio, resampling,
silence, looping and ducking."""
from __future__ import annotations

import io
import itertools
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


def read_wav(path: Path, label: str | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate of an audio file soundfile reads (multi-channel is averaged
    block by block, so only the mono samples are ever held). The header is checked against the caps
    first (`check_audio_header`). A WAV cut short is refused: libsndfile would silently return only the
    samples that remain."""
    import soundfile as sf

    label = label or f"audio file {path.name}"
    info = sf.info(str(path))
    check_audio_header(label, info.frames / max(info.samplerate, 1), info.channels, info.samplerate, info.frames)
    missing = wav_missing_bytes(path)
    if missing:
        raise ToolError(f"audio file {path.name} is truncated: its header promises {missing} more bytes of samples")
    mono, filled = np.empty(info.frames, dtype=np.float32), 0
    for block in sf.blocks(str(path), blocksize=1 << 16, dtype="float32", always_2d=True):
        if filled + len(block) > len(mono):
            raise ToolError(f"{label} holds more samples than its header says")
        mono[filled:filled + len(block)] = block.mean(axis=1)
        filled += len(block)
    return mono[:filled], int(info.samplerate)


# Decoding caps (issue 19: a 91 kB FLAC of 8-channel 192 kHz silence decoded to 401 MB). The header is
# checked before a sample is decoded, and the decoded count again while it streams (headers lie).
MAX_AUDIO_S = 10_800.0  # 3 h, as narration.max_video_s
MAX_CHANNELS = 8  # 7.1
MAX_RATE = 192_000
MAX_FRAMES = int(MAX_AUDIO_S * 48_000)  # mono samples held: 3 h at 48 kHz, about 2 GB of float32
MAX_VALUES = 4 * MAX_FRAMES  # samples decoded over all channels: the decoding time budget


def check_audio_header(label: str, seconds: float, channels: int, rate: int, frames: int | None = None) -> None:
    """ToolError when what a header claims is over the caps (one line, before any decoding)."""
    frames = frames if frames is not None else int(seconds * rate)
    if not 0 < channels <= MAX_CHANNELS or not 0 < rate <= MAX_RATE:
        raise ToolError(f"{label} has {channels} channels at {rate} Hz; the limits are {MAX_CHANNELS} "
                        f"channels and {MAX_RATE} Hz")
    if seconds > MAX_AUDIO_S or frames > MAX_FRAMES or frames * channels > MAX_VALUES:
        raise ToolError(f"{label} claims {seconds:.0f} s of {channels}-channel {rate} Hz audio, over the "
                        f"decoding budget ({MAX_AUDIO_S / 3600:g} h, {MAX_VALUES:,} samples)")


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
        audio, rate = read_wav(path, label)
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
            rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
            seconds = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
            check_audio_header(label, seconds, channels, rate)
            return _decoded_mono(container, stream, label), int(rate)
    except av.FFmpegError as exc:
        raise ToolError(f"{label}: cannot read audio: {exc}") from None


def _decoded_mono(container, stream, label: str) -> np.ndarray:
    """The stream downmixed to mono frame by frame, stopping at the caps whatever the header said."""
    import av

    mono = av.AudioResampler(format="fltp", layout="mono", rate=stream.codec_context.sample_rate)
    chunks, held, decoded = [], 0, 0
    for frame in itertools.chain(container.decode(stream), [None]):  # None flushes the resampler
        decoded += frame.samples * max(1, frame.layout.nb_channels) if frame is not None else 0
        for piece in mono.resample(frame):
            chunks.append(piece.to_ndarray()[0])
            held += len(chunks[-1])
        if held > MAX_FRAMES or decoded > MAX_VALUES:
            raise ToolError(f"{label} decodes to more than its header said, over the decoding budget "
                            f"({MAX_VALUES:,} samples)")
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


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
