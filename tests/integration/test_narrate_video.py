"""Audio description of a real video: hibari speech at known times, coloured shots, a 60 Hz hum.

The hum runs under everything at a fixed level, so the original soundtrack's level inside the
finished AD mix can be read at 60 Hz (lock-in detection) even where a description is speaking:
the voice has almost no energy that low. That is how the ducking is measured from the MP4 itself.
"""
from __future__ import annotations

import html
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import webvtt

from agent.narrate.checks import round_trip
from agent.narrate.describe import rewrite
from agent.narrate.fit import fit_cue
from agent.narrate.types import NarrationContext
from agent.narrate.video import narrate_video
from agent.service.runs import create_run
from memory import repo
from tools.media.mp4 import encode_mp4
from tools.narration.admix import integrated_lufs
from tools.narration.gaps import Gap

RATE, FPS, SIZE, SECONDS = 24000, 8, 128, 14.0
HUM_HZ, HUM_LEVEL = 60.0, 0.05
LINES = [(0.5, "The keeper opens the door and looks at the sea."),
         (8.0, "Anna brings the lamp to the top of the tower.")]
SHOTS = [(0.0, (200, 40, 40)), (4.5, (40, 160, 60)), (11.5, (40, 60, 200))]
SIDECAR = {"cast": ["Anna"], "on_screen_text": "Harbour Lighthouse"}


def build_video(path: Path, voice) -> list[tuple[float, float]]:
    """The test video; returns the exact speech intervals (first to last audible sample of each line)."""
    import av

    total = int(SECONDS * RATE)
    audio = (HUM_LEVEL * np.sin(2 * np.pi * HUM_HZ * np.arange(total) / RATE)).astype(np.float32)
    spoken = []
    for start, line in LINES:
        speech = voice(line, seed=0)
        loud = np.flatnonzero(np.abs(speech) > 0.01)
        speech = speech[loud[0]:loud[-1] + 1]
        audio[int(start * RATE):int(start * RATE) + len(speech)] += speech
        spoken.append((start, start + len(speech) / RATE))
    with av.open(str(path), "w", format="mp4") as box:
        video = box.add_stream("libx264", rate=FPS)
        video.width = video.height = SIZE
        video.pix_fmt = "yuv420p"
        sound = box.add_stream("aac", rate=RATE)
        sound.codec_context.layout = "mono"
        for i in range(int(SECONDS * FPS)):
            colour = [c for s, c in SHOTS if s <= i / FPS][-1]
            frame = av.VideoFrame.from_ndarray(np.full((SIZE, SIZE, 3), colour, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            box.mux(video.encode(frame))
        for first in range(0, total, 4096):
            part = np.ascontiguousarray(audio[first:first + 4096].reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, first, Fraction(1, RATE)
            box.mux(sound.encode(frame))
        box.mux(video.encode(None))
        box.mux(sound.encode(None))
    return spoken


def hum_level(audio: np.ndarray, rate: int, start: float, end: float) -> float:
    """Amplitude of the 60 Hz component over [start, end] seconds (lock-in: project on the hum)."""
    part = audio[int(start * rate):int(end * rate)]
    t = np.arange(len(part)) / rate
    return float(2 * abs(np.mean(part * np.exp(-2j * np.pi * HUM_HZ * t))))


def audio_streams(path: Path) -> list[dict]:
    import av

    with av.open(str(path)) as box:
        return [{"metadata": dict(s.metadata), "disposition": int(s.disposition)} for s in box.streams.audio]


def video_streams(path: Path) -> int:
    import av

    with av.open(str(path)) as box:
        return len(box.streams.video)


def decode_stream(path: Path, number: int) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as box:
        stream = box.streams.audio[number]
        mono = av.AudioResampler(format="fltp", layout="mono", rate=stream.codec_context.sample_rate)
        chunks = [f.to_ndarray()[0] for frame in box.decode(stream) for f in mono.resample(frame)]
        return np.concatenate(chunks), stream.codec_context.sample_rate


@pytest.fixture
def narration(runtime, tmp_path) -> NarrationContext:
    out = tmp_path / "out"
    return NarrationContext(runtime, create_run(runtime, kind="narration", request="test", out_dir=out), out)


@pytest.fixture
def video(tmp_path, models) -> tuple[Path, list[tuple[float, float]]]:
    path = tmp_path / "harbour.mp4"
    with models.use("tts") as voice:
        spoken = build_video(path, voice.tts)
    return path, spoken


def test_a_video_is_described_between_its_dialogue(narration, video):
    path, spoken = video
    result = narrate_video(narration, path, 3, SIDECAR)
    assert result.status == "done", result.error
    out = narration.out_dir
    silences = [(0.0, spoken[0][0]), (spoken[0][1], spoken[1][0]), (spoken[1][1], SECONDS)]
    long_ones = [s for s in silences if s[1] - s[0] >= 2.0]
    used = result.gaps["used"]
    assert len(used) == len(long_ones)
    for gap, (start, end) in zip(used, long_ones, strict=True):
        assert abs(gap["start"] - start) <= 0.3 and abs(gap["end"] - end) <= 0.3, (gap, start, end)
    assert any(g["end"] <= spoken[0][0] + 0.3 for g in result.gaps["missed"])  # the 0.5 s lead-in is too short

    cues = json.loads((out / "harbour.ad.json").read_text())["cues"]
    assert cues == result.data["cues"] and len(cues) >= 2
    assert cues[0]["text"].startswith("On screen: Harbour Lighthouse.")
    for cue in cues:
        assert cue["gap"]["start"] - 1e-3 <= cue["start"] and cue["end"] <= cue["gap"]["end"] + 1e-3
        assert all(min(cue["end"], e) <= max(cue["start"], s) for s, e in spoken), (cue, spoken)
        assert "wer" in cue
    assert result.scores["speech_overlaps"] == 0
    assert result.scores["cue_wer_max"] >= result.scores["cue_wer_mean"] >= 0
    assert {"1.2.3", "1.2.5"} <= set(result.wcag)

    mixed = [c for c in cues if not c["extended"]]
    assert len(webvtt.read(str(out / "harbour.ad.vtt"))) >= len(mixed)
    assert len(webvtt.read(str(out / "harbour.extended.ad.vtt"))) >= len(cues)
    alone, rate = sf.read(str(out / "harbour.ad.wav"))
    assert abs(len(alone) / rate - SECONDS) < 0.05

    streams = audio_streams(out / "harbour.ad.mp4")
    assert len(streams) == 2 and video_streams(out / "harbour.ad.mp4") == 1
    assert not [w for w in result.warnings if "delivered" in w]  # every cue found where planned, off speech
    label = streams[1]["metadata"]
    assert "Audio description" in (label.get("title"), label.get("name"), label.get("handler_name"))
    assert label.get("language") == "eng"
    assert streams[1]["disposition"] & 0x100  # AV_DISPOSITION_VISUAL_IMPAIRED

    mix, rate = decode_stream(out / "harbour.ad.mp4", 1)
    assert abs(integrated_lufs(mix, rate) - (-23.0)) <= 1.0
    cue = max(mixed, key=lambda c: c["duration"])
    ducked = hum_level(mix, rate, cue["start"] + 0.3, cue["end"] - 0.3)
    full = hum_level(mix, rate, spoken[0][0] + 0.3, spoken[0][1] - 0.3)  # no description plays over dialogue
    assert 20 * np.log10(full / ducked) >= 10.0, (full, ducked)

    page = (out / "harbour.transcript.html").read_text()
    marks = [page.index("The keeper opens"), page.index(html.escape(cues[0]["text"])),
             page.index("brings the lamp"), page.index(html.escape(cues[-1]["text"]))]
    assert marks == sorted(marks)
    assert set(result.outputs.values()) <= {p.name for p in out.iterdir()}


def test_bad_files_fail_with_one_line(narration, video, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video[0].read_bytes()[:4000])
    for bad in (empty, cut):
        result = narrate_video(narration, bad, 0, {})
        assert result.status == "failed" and result.error and "\n" not in result.error
        assert bad.name in result.error


def test_a_plain_english_cue_fits_and_is_heard_back(narration):
    gap = Gap(2.0, 6.0)
    cue = fit_cue(narration, "i0-g0", "A woman climbs the stairs of the lighthouse.", gap)
    assert not cue.extended and gap.start <= cue.start and cue.end <= gap.end
    checked, warnings = round_trip(narration, "i0", [cue], "Anna")
    # Whisper may mishear one of the eight words on another CPU (rounding differs; see test_scores.py), never
    # two. One is over max_cue_wer (5 %), so the cue is then flagged: that warning, and only that one, is right.
    wer, limit = checked[0].checks["wer"], narration.rt.settings.narration.max_cue_wer
    assert wer <= 1 / 8, warnings
    assert len(warnings) == int(wer > limit) and all("comes back from speech recognition" in w for w in warnings)


def test_a_cue_too_long_for_its_gap_becomes_extended(narration):
    text = "Extraordinarily incomprehensible telecommunications infrastructure modernisation."
    cue = fit_cue(narration, "i0-g1", text, Gap(5.0, 7.2))  # five words: within budget, but long ones
    assert cue.extended and cue.start == 5.0 and cue.duration > 2.2


def test_a_served_llm_rewrite_is_kept_only_when_it_follows_the_rules(narration, fake_openai):
    narration.rt.settings.llm.base_url = fake_openai.base_url
    narration.rt.settings.llm.model = "test-model"
    fake_openai.script({"description": "Anna carries a lamp up the stairs."},
                       {"description": "We see a happy woman, maybe Anna."})
    assert rewrite(narration, "a woman holds a lamp", 10, ["Anna"], seed=0) == "Anna carries a lamp up the stairs."
    assert rewrite(narration, "a woman holds a lamp on stairs", 10, ["Anna"], seed=0) is None
    assert "Anna" in fake_openai.completions()[0].body["messages"][-1]["content"]


def test_a_video_longer_than_the_limit_is_refused_before_any_model_work(narration, tmp_path):
    clip = tmp_path / "long.mp4"
    clip.write_bytes(encode_mp4(32, 32, 4, 16000, lambda w: w.add_frames(np.zeros((32, 32, 3), np.uint8), 12)))
    narration.rt.settings.narration.max_video_s = 2.0
    result = narrate_video(narration, clip, 0, {})
    assert result.status == "failed"
    assert result.error == "long.mp4: the video is 3 s long, over the 2 s limit (narration.max_video_s)"
    with narration.rt.db.session() as s:
        assert repo.list_steps(s, narration.run_id) == []


def test_a_video_is_decoded_from_the_checked_copy_only(narration, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_mp4(32, 32, 4, 16000, lambda w: w.add_frames(np.zeros((32, 32, 3), np.uint8), 4)))
    result = narrate_video(narration, clip, 0, {}, sha256="0" * 64)  # discovery saw other content
    assert result.status == "failed" and "changed after it was checked" in result.error
