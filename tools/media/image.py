"""Images in and out: PNG encoding, and decoding of untrusted files with bounds read first.

Only common formats are decoded (Pillow is told the allowlist, so a file named .png that is really
some rarer format is refused before any plugin parses it); the size in the header is checked before a
pixel is decoded; a decompression bomb, an empty, truncated or corrupt file each become one ToolError
line. Transparent pictures are flattened onto a background that keeps their content visible.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from tools.base import ToolError, one_line

MAX_IMAGE_SIDE = 8192


def encode_png(image) -> bytes:
    """A PIL image as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def open_image(path: Path) -> Any:
    """A decoded, upright RGB PIL image (see `read_image`), named by its file name in errors."""
    return read_image(path, f"image {path.name}")


ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
MAX_PIXELS = 40_000_000  # a 8000 x 5000 photo; the side limit alone would allow 67 Mpx


def open_allowed(path: Path) -> Any:
    """Pillow's lazy open (header only; the caller closes it), limited to ALLOWED_FORMATS: where only
    metadata is wanted, no exotic decoder (EPS hands PostScript to Ghostscript) ever sees the bytes."""
    from PIL import Image

    return Image.open(path, formats=ALLOWED_FORMATS)


def read_image(path: Path, label: str) -> Any:
    """The first frame of the image at `path` as an upright RGB PIL image; `label` names it in errors."""
    from PIL import Image

    size = path.stat().st_size if path.is_file() else -1
    if size <= 0:
        raise ToolError(f"{label} is empty (0 bytes)" if size == 0 else f"{label} is not a file")
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 Mpx and refuses from 179 Mpx; the stricter limit below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=ALLOWED_FORMATS) as img:
                _check_size(img.size, label)
                img.load()
                return flatten(_upright(img))
    except ToolError:
        raise
    except Image.UnidentifiedImageError:
        raise ToolError(f"{label} is not an image in an accepted format ({', '.join(ALLOWED_FORMATS)})") from None
    except Image.DecompressionBombError:
        raise ToolError(f"{label} is refused as a decompression bomb (too many pixels)") from None
    except Exception as exc:  # noqa: BLE001 - hostile bytes reach many decoder paths (OSError, struct.error...)
        raise ToolError(f"cannot read {label}: {one_line(exc, 200)}") from None


def _upright(img: Any) -> Any:
    """The picture turned as its EXIF orientation says; a broken EXIF block leaves it as stored."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - metadata only: the pixels are still good
        return img


def _check_size(size: tuple[int, int], label: str) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ToolError(f"{label} has no pixels ({width}x{height})")
    if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_PIXELS:
        raise ToolError(f"{label} is {width}x{height}; the limit is {MAX_IMAGE_SIDE} px a side and "
                        f"{MAX_PIXELS // 1_000_000} Mpx")


def flatten(img: Any) -> Any:
    """RGB; a picture with transparency is laid on white, or on black when what is visible is light
    (white text on a transparent layer would vanish on white)."""
    from PIL import Image

    if img.mode in ("RGB", "L") or ("A" not in img.getbands() and "transparency" not in img.info):
        return img.convert("RGB")
    rgba = img.convert("RGBA")
    pixels = np.asarray(rgba, dtype=np.float32)
    alpha = pixels[..., 3] / 255.0
    visible = alpha.sum()
    light = visible > 0 and float((pixels[..., :3].mean(axis=2) * alpha).sum() / visible) > 160
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255) if light else (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")

