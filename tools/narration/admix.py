"""The audio-description mix and the described MP4.

The mix is the original soundtrack, ducked under each description, plus the descriptions, then
normalised to the target integrated loudness (EBU R128 / ITU-R BS.1770 via pyloudnorm). A gain
of -x dB lowers the loudness of the same signal by exactly x LU, so ducking by `duck_lu` dB (plus a
margin for the ramps) lowers the original under narration by at least `duck_lu` LU.

The MP4 keeps the original video and audio packets untouched (remuxed, not re-encoded) and adds
the mix as a second AAC track labelled for players and assistive technology: title "Audio
description", language "eng", disposition `visual_impaired` (ffmpeg's flag for description tracks).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from tools.base import ToolError
from tools.media.audio import duck_gain

DUCK_MARGIN_DB = 2.0  # ducking deeper than asked, so the measured drop is safely past the floor
RAMP_S = 0.2
AD_TITLE = "Audio description"


def place(clips: list[tuple[float, np.ndarray]], total: int, rate: int) -> np.ndarray:
    """The description audio alone: each (start seconds, mono samples) clip at its place, `total` samples."""
    out = np.zeros(total, dtype=np.float32)
    for start, audio in clips:
        first = max(0, round(start * rate))
        n = max(0, min(len(audio), total - first))
        out[first:first + n] += audio[:n]
    return out


def mix(original: np.ndarray, narration: np.ndarray, spans: list[tuple[float, float]], rate: int, *,
        duck_lu: float, target_lufs: float) -> np.ndarray:
    """Original ducked under `spans` plus `narration`, normalised to `target_lufs` integrated."""
    if len(original) != len(narration):
        raise ValueError(f"original ({len(original)}) and narration ({len(narration)}) lengths differ")
    gain = duck_gain(0, len(original), rate, spans, duck_lu + DUCK_MARGIN_DB, ramp=RAMP_S)
    return normalise(original * gain + narration, rate, target_lufs)


def normalise(audio: np.ndarray, rate: int, target_lufs: float) -> np.ndarray:
    """`audio` scaled to `target_lufs` integrated loudness (silence, or too short to measure, is left alone)."""
    loudness = integrated_lufs(audio, rate)
    if not np.isfinite(loudness):
        return audio.astype(np.float32)
    scaled = audio * 10 ** ((target_lufs - loudness) / 20)
    return np.clip(scaled, -1.0, 1.0).astype(np.float32)


def integrated_lufs(audio: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness in LUFS; -inf for silence or audio under one 400 ms block."""
    import pyloudnorm

    if len(audio) < int(0.4 * rate) + 1:
        return float("-inf")
    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(audio, dtype=np.float64)))


def write_described_mp4(source: Path, ad_audio: np.ndarray, rate: int, out: Path) -> None:
    """`source`'s streams copied as they are, plus `ad_audio` as a labelled AAC description track."""
    import av

    try:
        with av.open(str(source)) as src, av.open(str(out), mode="w", format="mp4") as dst:
            copied = {s.index: dst.add_stream_from_template(s) for s in src.streams
                      if s.type in ("video", "audio")}
            described = _description_stream(dst, rate)
            for packet in src.demux(*[src.streams[i] for i in copied]):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = copied[packet.stream.index]
                dst.mux(packet)
            _encode(dst, described, ad_audio, rate)
    except av.FFmpegError as exc:
        out.unlink(missing_ok=True)
        raise ToolError(f"cannot write the described video: {exc}") from None


def _description_stream(dst, rate: int):
    from av.stream import Disposition

    stream = dst.add_stream("aac", rate=rate)
    stream.codec_context.layout = "mono"
    stream.time_base = Fraction(1, rate)
    stream.metadata["title"] = AD_TITLE
    stream.metadata["language"] = "eng"
    stream.disposition = Disposition.visual_impaired
    return stream


def _encode(dst, stream, audio: np.ndarray, rate: int, chunk: int = 1024 * 16) -> None:
    import av

    for first in range(0, len(audio), chunk):
        part = np.ascontiguousarray(audio[first:first + chunk], dtype=np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="mono")
        frame.sample_rate, frame.time_base, frame.pts = rate, Fraction(1, rate), first
        dst.mux(stream.encode(frame))
    dst.mux(stream.encode(None))
