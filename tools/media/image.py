"""Images in and out: PNG encoding, and decoding with bounds (common formats only, no decompression bombs)."""
from __future__ import annotations

import io
from pathlib import Path

from tools.base import ToolError

MAX_IMAGE_SIDE = 8192


def encode_png(image) -> bytes:
    """A PIL image as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def open_image(path: Path):
    """A decoded RGB PIL image; refuses decompression bombs and sides over MAX_IMAGE_SIDE."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if max(img.size) > MAX_IMAGE_SIDE:
                width, height = img.size
                raise ToolError(f"image {path.name} is {width}x{height}; the limit is {MAX_IMAGE_SIDE} px a side")
            return img.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise ToolError(f"cannot read image {path.name}: {exc}") from None
