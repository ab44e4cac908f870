"""Small pictures the chaos and load suites send: a photo-like one (the captioner describes it) and a flat
rule, which narration finds decorative (empty alt text, no model call)."""
from __future__ import annotations

import io


def png(photo: bool) -> bytes:
    """A photo-like picture (gradients and shapes) or a flat decorative rule, as PNG bytes."""
    import numpy as np
    from PIL import Image, ImageDraw

    if photo:
        y, x = np.mgrid[0:96, 0:128]
        pixels = np.stack([x * 2.0, y * 2.6, 128 + 60 * np.sin(x / 9.0)], -1)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype("uint8"))
        ImageDraw.Draw(image).ellipse([40, 20, 90, 70], fill=(230, 200, 40))
    else:
        image = Image.new("RGB", (128, 8), (40, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
