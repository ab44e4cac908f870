"""Encoding and decoding helpers shared by the tools (PNG, WAV); no model code here."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

MAX_IMAGE_SIDE = 8192


def encode_png(image) -> bytes:
    """A PIL image as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


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
        from tools.base import ToolError

        raise ToolError(f"audio file {path.name} is truncated: its header promises {missing} more bytes of samples")
    return audio.mean(axis=1), int(rate)


def wav_missing_bytes(path: Path) -> int:
    """How many bytes of the `data` chunk a RIFF/WAVE file lacks (0 when whole, or not a WAV)."""
    import struct

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


def open_image(path: Path):
    """A decoded RGB PIL image; refuses decompression bombs and sides over MAX_IMAGE_SIDE."""
    from PIL import Image

    from tools.base import ToolError

    try:
        with Image.open(path) as img:
            if max(img.size) > MAX_IMAGE_SIDE:
                width, height = img.size
                raise ToolError(f"image {path.name} is {width}x{height}; the limit is {MAX_IMAGE_SIDE} px a side")
            return img.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise ToolError(f"cannot read image {path.name}: {exc}") from None
