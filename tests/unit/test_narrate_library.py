"""The library: discovery, safety, kinds by content, sidecars and embedded metadata, pixel heuristics,
XMP alt text written and read back. No models."""
import json
import os

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from agent.narrate import pixels
from agent.narrate.library import check_roots, discover
from agent.narrate.metadata import check_written, read_embedded, read_xmp, write_described_copy, xmp_field
from tests.fixtures.narrate_media import BARS, bar_chart, border, scene, truncated_png
from tools.media import encode_wav
from tools.mp4 import encode_mp4


def _tone(path, seconds=0.5):
    t = np.arange(int(16000 * seconds)) / 16000
    path.write_bytes(encode_wav(0.3 * np.sin(2 * np.pi * 440 * t), 16000))
    return path


def _clip(path):
    frame = np.full((32, 32, 3), 90, np.uint8)
    path.write_bytes(encode_mp4(32, 32, 4, 16000, lambda w: (w.add_frames(frame, 4), w.add_audio(
        np.zeros(16000, np.float32)))))
    return path


def _by_name(items):
    return {i.rel: i for i in items}


def test_kinds_come_from_the_content_not_the_name(tmp_path):
    scene(tmp_path / "photo.dat")
    _tone(tmp_path / "sound.bin")
    _clip(tmp_path / "movie.wav")  # a video whatever its name says
    (tmp_path / "readme.txt").write_text("not media")
    items = _by_name(discover([tmp_path]))
    assert {n: i.kind for n, i in items.items()} == {"movie.wav": "video", "photo.dat": "image",
                                                     "sound.bin": "audio"}
    assert all(len(i.sha256) == 64 and i.error is None for i in items.values())


def test_broken_files_are_errors_of_their_own_items(tmp_path):
    scene(tmp_path / "good.png")
    truncated_png(tmp_path / "cut.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "letter.png").write_text("Dear reader, this is text.")
    wav = _tone(tmp_path / "short.wav")
    wav.write_bytes(wav.read_bytes()[:-4000])
    (tmp_path / "big.png").write_bytes(b"\0" * 2_000_000)
    items = _by_name(discover([tmp_path], max_file_mb=1.0))
    assert items["good.png"].kind == "image" and items["good.png"].error is None
    assert "truncated" in items["cut.png"].error
    assert items["empty.png"].error == "empty file (0 bytes)"
    assert items["letter.png"].error.startswith("mislabelled: named .png")
    assert items["short.wav"].error.startswith("truncated")
    assert "over the 1 MB limit" in items["big.png"].error
    assert [i.index for i in discover([tmp_path], max_file_mb=1.0)] == [1, 2, 3, 4, 5, 6]


def test_decompression_bombs_and_huge_images_are_refused(tmp_path):
    Image.new("1", (14000, 14000)).save(tmp_path / "bomb.png")  # a small file that decodes to 196 megapixels
    Image.new("1", (9000, 100)).save(tmp_path / "wide.png")
    items = _by_name(discover([tmp_path]))
    assert "decompression bomb" in items["bomb.png"].error
    assert items["wide.png"].error.endswith("is 9000x100; the limit is 8192 px a side")


def test_symlinks_out_of_the_root_are_refused_per_item(tmp_path):
    root, outside = tmp_path / "lib", tmp_path / "private"
    root.mkdir(), outside.mkdir()
    scene(root / "a.png")
    scene(outside / "secret.png")
    os.symlink(outside / "secret.png", root / "link.png")
    os.symlink(outside, root / "linkdir")
    items = _by_name(discover([root]))
    assert items["link.png"].error == "symlink points outside the library roots"
    assert items["linkdir"].error == "symlink points outside the library roots"
    assert items["a.png"].kind == "image"


def test_paths_outside_the_roots_are_one_error_for_the_request(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    scene(tmp_path / "elsewhere.png")
    with pytest.raises(ValueError, match="outside the library roots"):
        check_roots([root / ".." / "elsewhere.png"], [root])
    with pytest.raises(ValueError, match="no such file or folder"):
        discover([root / "missing.png"], [root])


def test_sidecars_and_our_outputs_are_not_items_but_sidecars_are_read(tmp_path):
    bar_chart(tmp_path / "chart.png")
    (tmp_path / "chart.context.json").write_text(json.dumps(
        {"purpose": "Sales per quarter", "cast": ["Ada"], "decorative": False, "ignored": 1}))
    scene(tmp_path / "photo.png")
    (tmp_path / "photo.context.txt").write_text("The reading room after renovation.")
    (tmp_path / "photo.vtt").write_text("WEBVTT\n")
    (tmp_path / "report.json").write_text("{}")
    items = _by_name(discover([tmp_path]))
    assert sorted(items) == ["chart.png", "photo.png"]
    assert items["chart.png"].sidecar == {"purpose": "Sales per quarter", "cast": ["Ada"], "decorative": False}
    assert items["photo.png"].sidecar == {"page_text": "The reading room after renovation."}


def test_a_broken_sidecar_is_an_item_error(tmp_path):
    scene(tmp_path / "photo.png")
    (tmp_path / "photo.context.json").write_text('{"decorative": "yes"}')
    assert discover([tmp_path])[0].error == "sidecar photo.context.json: decorative must be true or false"


def test_existing_metadata_is_context(tmp_path):
    info = PngInfo()
    info.add_text("Description", "Map of the old town")
    Image.new("RGB", (64, 64), "white").save(tmp_path / "map.png", pnginfo=info)
    assert read_embedded(tmp_path / "map.png") == {"embedded_description": "Map of the old town"}


@pytest.mark.parametrize("source", ["photo.png", "photo.jpg"])
def test_xmp_alt_text_reads_back(tmp_path, source):
    image = scene(tmp_path / source)
    alt, extended = "Sun & hills <at> dusk.", "A yellow disc above green slopes; \"quoted\" text."
    copy = write_described_copy(image, tmp_path / "out" / "photo", alt, extended)
    assert copy.suffix == image.suffix and check_written(copy, alt, extended) == []
    assert xmp_field(read_xmp(copy), "AltTextAccessibility") == alt
    assert read_embedded(copy) == {"embedded_alt": alt, "embedded_description": extended}
    assert Image.open(copy).size == Image.open(image).size


def test_pixel_heuristics_tell_decoration_charts_and_photos_apart(tmp_path):
    strip = pixels.analyse(Image.open(border(tmp_path / "b.png")).convert("RGB"))
    chart = pixels.analyse(Image.open(bar_chart(tmp_path / "c.png")).convert("RGB"))
    photo = pixels.analyse(Image.open(scene(tmp_path / "s.png")).convert("RGB"))
    assert "thin strip" in pixels.decorative_reason(strip)
    assert pixels.decorative_reason(chart) is None and pixels.decorative_reason(photo) is None
    assert pixels.complex_kind(chart) == "bar chart" and len(chart.bars) == len(BARS)
    assert pixels.complex_kind(photo) is None
    summary = pixels.chart_summary(chart)
    expected = ", ".join(f"{round(100 * h / max(BARS))}%" for h in BARS)
    assert summary.startswith("Bar chart with 4 vertical bars in blue on axes.") and expected in summary
