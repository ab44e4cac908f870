"""A described video reads its burned-in title in a gap, shows it with its time in the transcript, and hears
the shown name right: real OCR (PP-OCRv6), real speech (hibari), real recognition (whisper tiny.en).

Okonkwo was picked by measuring: whisper tiny.en hears "Akan Kuo" without context (checked here too, so
the test shows the visual context is what spells it). Transcripts are checked for the name only.
"""
from __future__ import annotations

import html

import pytest
import webvtt

from agent.narrate.types import NarrationContext
from agent.narrate.video import narrate_video
from agent.service.runs import create_run
from evals.visual_context import SPEECH_AT, TITLE_S, name_heard, titled_speech_video
from tests.helpers import Assets
from tools.media.audio import encode_wav, read_audio
from tools.registry import get_tool

NAME, SENTENCE = "Okonkwo", "Tonight we meet Okonkwo at the harbour."


@pytest.fixture
def narration(runtime, tmp_path) -> NarrationContext:
    out = tmp_path / "out"
    return NarrationContext(runtime, create_run(runtime, kind="narration", request="test", out_dir=out), out)


@pytest.mark.slow
def test_the_title_is_read_in_a_gap_and_the_shown_name_is_heard_right(narration, models, tmp_path):
    path = tmp_path / "meet.mp4"
    with models.use("tts") as voice:
        speech = titled_speech_video(path, voice, NAME, SENTENCE)
    result = narrate_video(narration, path, 0, {})
    assert result.status == "done", result.error
    assert [t["text"] for t in result.data["on_screen"]] == [NAME]
    shown = result.data["on_screen"][0]
    assert shown["start"] <= 0.5 and abs(shown["end"] - TITLE_S) <= 0.6, shown  # ocr_video samples every 1 s

    first = result.data["cues"][0]
    assert first["text"].startswith(f"On screen: {NAME}."), first
    assert first["end"] <= SPEECH_AT + 0.3 and first["start"] < TITLE_S  # read while it is shown, before speech
    assert name_heard(NAME, result.data["dialogue"]), result.data["dialogue"]
    assert result.data["visual_context"] == f'On screen: "{NAME}".'

    page = (narration.out_dir / result.outputs["transcript"]).read_text()
    assert f'<p class="on-screen"><time>00:00:00</time><span class="who">On screen:</span> {NAME}</p>' in page
    assert page.index(html.escape(first["text"])) < page.index("Tonight we meet")
    cues = webvtt.read(str(narration.out_dir / result.outputs["on_screen_vtt"]))
    assert [c.text for c in cues] == [NAME]

    audio, rate = read_audio(path, "the test video")  # the same soundtrack with no context: misheard
    assets = Assets(tmp_path)
    tool = get_tool("transcribe")
    plain = tool.run(tool.parse({"audio": assets.add(encode_wav(audio, rate), "audio", "audio/wav")}),
                     assets.context(models)).values["text"]
    assert not name_heard(NAME, plain), plain
    assert speech[0] == SPEECH_AT
