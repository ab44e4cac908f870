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
    """Mono float32 samples and the sample rate of an audio file (multi-channel is averaged)."""
    import soundfile as sf

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return audio.mean(axis=1), int(rate)


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
