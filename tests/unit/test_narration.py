"""The pure media code of narration (`tools/narration/`), without models: pauses in speech, the
audio-description mix, the transcript page, XMP accessibility metadata, pixel measures, style rules."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.fixtures.narrate_media import BARS, bar_chart, border, scene
from tools.narration import pixels
from tools.narration.admix import integrated_lufs, mix, place
from tools.narration.gaps import Gap, find_gaps, merge_intervals, speech_intervals, vad_intervals
from tools.narration.metadata import (
    check_written,
    read_embedded,
    read_xmp,
    write_described_copy,
    xmp_field,
    xmp_fields,
)
from tools.narration.style import clean, shorten, style_problems
from tools.narration.transcript import dialogue_lines, transcript_html

# --- gaps ----------------------------------------------------------------------------------------------------


def test_gaps_are_the_pauses_between_speech_and_the_file_edges():
    used, missed = find_gaps([(0.5, 3.0), (8.0, 10.5)], 14.0, 2.0)
    assert used == [Gap(3.0, 8.0), Gap(10.5, 14.0)]
    assert missed == [Gap(0.0, 0.5)]


def test_overlapping_speech_is_joined_and_clipped_to_the_file():
    used, missed = find_gaps([(2.0, 4.0), (3.5, 6.0), (-1.0, 0.2), (9.0, 12.0)], 10.0, 2.0)
    assert used == [Gap(6.0, 9.0)]
    assert missed == [Gap(0.2, 2.0)]


def test_a_file_without_speech_is_one_gap():
    assert find_gaps([], 5.0, 2.0) == ([Gap(0.0, 5.0)], [])


@pytest.mark.parametrize("duration,minimum", [(0.0, 2.0), (5.0, 0.0)])
def test_bad_gap_arguments_are_refused(duration, minimum):
    with pytest.raises(ValueError, match="must be positive"):
        find_gaps([], duration, minimum)


def test_merge_joins_close_intervals_only_when_asked():
    assert merge_intervals([(1.0, 2.0), (2.1, 3.0)]) == [(1.0, 2.0), (2.1, 3.0)]
    assert merge_intervals([(2.1, 3.0), (1.0, 2.0)], join_s=0.2) == [(1.0, 3.0)]


def test_vad_sets_the_edges_and_words_it_missed_are_added():
    vad = [(0.5, 2.6)]
    words = [{"start": 0.1, "end": 0.9}, {"start": 1.0, "end": 2.9}, {"start": 6.0, "end": 6.4}]
    # whisper's stretched first word does not move VAD's edges; the word at 6 s, unseen by VAD, counts
    assert speech_intervals(vad, words) == [(0.5, 2.6), (6.0, 6.4)]


def test_vad_finds_no_speech_in_a_hum():
    t = np.arange(3 * 16000) / 16000
    assert vad_intervals((0.05 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)) == []
    with pytest.raises(ValueError, match="16000 Hz"):
        vad_intervals(np.zeros(100, np.float32), rate=24000)


# --- admix ---------------------------------------------------------------------------------------------------


def test_the_mix_ducks_the_original_by_at_least_10_lu_and_hits_the_target():
    rate = 16000
    t = np.arange(10 * rate) / rate
    original = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    narration = place([(4.0, np.zeros(2 * rate, np.float32))], len(original), rate)  # silent voice: music alone
    out = mix(original, narration, [(4.0, 6.0)], rate, duck_lu=10.0, target_lufs=-23.0)
    assert integrated_lufs(out, rate) == pytest.approx(-23.0, abs=0.5)
    inside, outside = out[int(4.3 * rate):int(5.7 * rate)], out[int(7 * rate):int(9 * rate)]
    assert integrated_lufs(outside, rate) - integrated_lufs(inside, rate) >= 10.0


def test_place_puts_clips_at_their_time_and_keeps_the_length():
    out = place([(0.5, np.ones(4, np.float32)), (0.9, np.ones(4, np.float32))], 10, 10)
    assert out.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


# --- transcript ----------------------------------------------------------------------------------------------


def test_dialogue_is_split_at_pauses_and_interleaved_with_descriptions_escaped():
    words = [{"word": "Hello", "start": 0.5, "end": 0.9}, {"word": "there.", "start": 1.0, "end": 1.4},
             {"word": "<b>Bye</b>", "start": 8.0, "end": 8.5}]
    lines = dialogue_lines(words, [{"start": 0.5, "end": 8.5, "text": "one joined segment"}])
    assert [(line["start"], line["text"]) for line in lines] == [(0.5, "Hello there."), (8.0, "<b>Bye</b>")]
    page = transcript_html("a&b.mp4", lines, [{"start": 3.0, "text": "A door opens & closes."}])
    assert page.index("Hello there.") < page.index("A door opens &amp; closes.") < page.index("&lt;b&gt;Bye")
    assert "<b>Bye" not in page and "a&amp;b.mp4" in page


# --- metadata ------------------------------------------------------------------------------------------------


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


def test_xmp_fields_are_xml_safe_and_capped(tmp_path):
    image = scene(tmp_path / "photo.jpg")
    alt, extended = "A red\x07 door\x00.", "word " * 20_000  # 100 kB: over a JPEG's 65 kB XMP segment
    safe_alt, safe_extended, warnings = xmp_fields(alt, extended)
    assert safe_alt == "A red door." and len(safe_extended) <= 2000
    assert warnings == ["extended description cut to 2000 of 99999 characters in the image's XMP"]
    copy = write_described_copy(image, tmp_path / "out" / "photo", alt, extended)
    assert check_written(copy, alt, extended) == []
    assert read_embedded(copy)["embedded_alt"] == "A red door."
    assert clean("a lamp\x0b on\x1b a desk") == "A lamp on a desk."


def test_an_xmp_packet_that_does_not_parse_is_reported(tmp_path):
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta><Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li>Door"
                                       "</rdf:li></rdf:Alt></Iptc4xmpCore:AltTextAccessibility>")
    Image.new("RGB", (32, 32), "white").save(tmp_path / "bad.png", pnginfo=info)
    problems = check_written(tmp_path / "bad.png", "Door", "")
    assert len(problems) == 1 and problems[0].startswith("the XMP packet in bad.png does not parse as XML")


# --- pixels --------------------------------------------------------------------------------------------------


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


# --- style ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["image of a dog on a beach", "A picture of a dog on a beach",
                                 "  Photo of:  a dog on a beach  "])
def test_clean_drops_the_medium_and_ends_with_a_full_stop(raw):
    assert clean(raw) == "A dog on a beach."


def test_shorten_cuts_at_a_word_and_keeps_the_limit():
    text = "A long line of red and blue boats moored along the quay at low tide in the evening."
    short = shorten(text, 40)
    assert len(short) <= 40 and short.endswith(".") and text.startswith(short[:-1])


def test_style_problems_name_each_broken_rule():
    assert style_problems("Image of a happy dog, probably asleep.", max_chars=20) == [
        'starts by naming the medium ("image of")', "interprets instead of describing (happy, probably)",
        "38 characters, over 20"]
    assert style_problems("A dog asleep on a rug.", max_chars=150) == []
    assert style_problems("   ") == ["empty"]
