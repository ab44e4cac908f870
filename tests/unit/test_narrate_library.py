"""The library: discovery, safety, kinds by content, sidecars. No models. (Embedded metadata, XMP alt
text and pixel heuristics are tested in test_narration.py with their code.)"""
import json
import os

import numpy as np
import pytest
from PIL import Image

from agent.narrate.library import check_container, check_roots, discover
from agent.narrate.sidecar import MAX_SIDECAR_BYTES
from tests.fixtures.narrate_media import bar_chart, scene, truncated_png
from tools.media.audio import encode_wav
from tools.media.mp4 import encode_mp4
from tools.narration.metadata import (
    check_written,
    write_described_copy,
)


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
    assert "is 9000x100; the limit is 8192 px a side" in items["wide.png"].error


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


def test_a_playlist_reading_media_outside_the_library_is_refused(tmp_path):
    root, private = tmp_path / "lib", tmp_path / "private"
    root.mkdir(), private.mkdir()
    _clip(private / "x.mp4")
    _clip(root / "own.mp4")
    (root / "tour.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n../private/x.mp4\n"
                                    f"#EXTINF:1.0,\n{private / 'x.mp4'}\n#EXT-X-ENDLIST\n")
    items = _by_name(discover([root]))
    assert "tour.m3u8" not in items  # FFmpeg may not even probe it as a playlist: it is no media of ours
    assert items["own.mp4"].kind == "video"
    with pytest.raises(ValueError, match="cannot open the media"):
        check_container(root / "tour.m3u8")
    assert "mp4" in check_container(root / "own.mp4")


def test_a_symlinked_sidecar_leading_out_of_the_library_is_refused(tmp_path):
    root, private = tmp_path / "lib", tmp_path / "private"
    root.mkdir(), private.mkdir()
    (private / "secrets.txt").write_text("API_KEY=hunter2")
    scene(root / "photo.png")
    os.symlink(private / "secrets.txt", root / "photo.context.txt")
    scene(root / "inside.png")
    (root / "notes.txt").write_text("The reading room.")
    os.symlink(root / "notes.txt", root / "inside.context.txt")  # a link that stays in the library is fine
    items = _by_name(discover([root]))
    assert items["photo.png"].error == "sidecar photo.context.txt is a symlink pointing outside the library roots"
    assert "hunter2" not in str(items["photo.png"].sidecar)
    assert items["inside.png"].sidecar == {"page_text": "The reading room."}


def test_a_sidecar_over_the_cap_is_refused(tmp_path):
    scene(tmp_path / "photo.png")
    (tmp_path / "photo.context.txt").write_text("x" * (MAX_SIDECAR_BYTES + 1))
    assert discover([tmp_path])[0].error == "sidecar photo.context.txt is over 100 kB"


def test_hostile_files_are_errors_of_their_items_and_the_rest_go_on(tmp_path):
    scene(tmp_path / "good.png")
    os.symlink("loop.png", tmp_path / "loop.png")
    scene(tmp_path / "deep.png")
    (tmp_path / "deep.context.json").write_text("[" * 50_000 + "]" * 50_000)
    scene(tmp_path / "exif.png")
    Image.open(tmp_path / "exif.png").save(tmp_path / "exif.png", exif=b"not a TIFF header")  # getexif: SyntaxError
    items = _by_name(discover([tmp_path]))
    assert items["loop.png"].error == "symlink loop: the link cannot be resolved"
    assert items["deep.png"].error == "sidecar deep.context.json is nested too deeply"
    assert items["exif.png"].kind == "image" and items["exif.png"].error is None  # bad EXIF: no context, no crash
    copy = write_described_copy(tmp_path / "exif.png", tmp_path / "out" / "exif", "A scene.", "")
    assert check_written(copy, "A scene.", "") == []
    assert items["good.png"].kind == "image" and items["good.png"].error is None


def test_output_names_never_collide(tmp_path):
    (tmp_path / "lib").mkdir()
    for name in ("a.png", "a.jpg", "b.png"):
        scene(tmp_path / "lib" / name)
    _tone(tmp_path / "lib" / "talk.wav")
    (tmp_path / "lib" / "talk.mp3").write_bytes((tmp_path / "lib" / "talk.wav").read_bytes())
    bases = {i.rel: i.base for i in discover([tmp_path / "lib"])}
    assert bases == {"a.jpg": "a.jpg", "a.png": "a.png", "b.png": "b", "talk.mp3": "talk.mp3",
                     "talk.wav": "talk.wav"}


def test_two_folders_of_the_same_name_get_distinct_names(tmp_path):
    for year in ("2023", "2024"):
        (tmp_path / year / "photos").mkdir(parents=True)
        scene(tmp_path / year / "photos" / "cover.png")
    items = discover([tmp_path / "2023" / "photos", tmp_path / "2024" / "photos"])
    assert [(i.rel, i.base) for i in items] == [("photos/cover.png", "photos/cover"),
                                                ("photos-2/cover.png", "photos-2/cover")]


def test_an_out_folder_holding_the_library_is_refused(tmp_path):
    (tmp_path / "site" / "media").mkdir(parents=True)
    scene(tmp_path / "site" / "media" / "a.png")
    with pytest.raises(ValueError, match="must not contain the library"):
        discover([tmp_path / "site" / "media"], exclude=tmp_path / "site")
    assert [i.rel for i in discover([tmp_path / "site"], exclude=tmp_path / "site" / "out")] == ["media/a.png"]
