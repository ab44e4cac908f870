"""The bounded image opener the reading tools use: every hostile or broken file is one ToolError line,
decided from the header before pixels are decoded; the accepted formats open upright and flattened."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tools.base import ToolError
from tools.media.image import ALLOWED_FORMATS, MAX_PIXELS, flatten, read_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a few bytes of data: what a bomb looks like up front."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def _refused(tmp_path: Path, data: bytes, match: str) -> str:
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    with pytest.raises(ToolError, match=match) as info:
        read_image(path, "image x")
    message = str(info.value)
    assert "\n" not in message and len(message) < 300 and message.startswith(("image x", "cannot read image x"))
    return message


@pytest.mark.parametrize(("data", "match"), [
    (b"", "empty"),
    (b"not an image at all, just words", "not an image in an accepted format"),
    (png_header_only(20_000, 20_000), "decompression bomb"),
    (png_header_only(9_000, 100), "the limit is 8192 px a side"),
    (png_header_only(7_000, 7_000), "Mpx"),
    (_saved(Image.new("RGB", (64, 64), "red"), "PNG")[:120], "cannot read"),  # truncated
    (_saved(Image.new("RGB", (8, 8)), "PCX"), "not an image in an accepted format"),  # a format not on the list
    (_saved(Image.new("RGB", (8, 8)), "PPM"), "not an image in an accepted format"),
])
def test_bad_files_are_one_line_errors(tmp_path, data, match):
    _refused(tmp_path, data, match)


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(ToolError, match="is not a file"):
        read_image(tmp_path, "image x")


def test_the_pixel_limit_is_below_pillows_own():
    assert MAX_PIXELS < Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize("fmt", ALLOWED_FORMATS)
def test_every_allowed_format_opens_as_rgb(tmp_path, fmt):
    path = tmp_path / f"picture.{fmt.lower()}"
    path.write_bytes(_saved(Image.new("RGB", (40, 30), (10, 200, 30)), fmt))
    image = read_image(path, "picture")
    assert image.mode == "RGB" and image.size == (40, 30)


def test_only_the_first_frame_of_an_animation_is_read(tmp_path):
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue", "green")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert read_image(path, "anim").getpixel((5, 5))[0] > 200


def test_exif_orientation_is_applied(tmp_path):
    wide = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to view
    path = tmp_path / "phone.jpg"
    wide.save(path, exif=exif)
    assert read_image(path, "phone").size == (20, 60)


def test_transparency_is_flattened_onto_a_background_that_keeps_the_content():
    light = Image.new("RGBA", (50, 20), (0, 0, 0, 0))
    ImageDraw.Draw(light).rectangle((10, 5, 40, 15), fill=(255, 255, 255, 255))
    dark = Image.new("RGBA", (50, 20), (0, 0, 0, 0))
    ImageDraw.Draw(dark).rectangle((10, 5, 40, 15), fill=(0, 0, 0, 255))
    assert flatten(light).getpixel((0, 0)) == (0, 0, 0) and flatten(light).getpixel((20, 10)) == (255, 255, 255)
    assert flatten(dark).getpixel((0, 0)) == (255, 255, 255) and flatten(dark).getpixel((20, 10)) == (0, 0, 0)
