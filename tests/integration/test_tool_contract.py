"""The contract every tool keeps: a description, a JSON schema, bad arguments named in a ToolError,
and outputs that decode as what they claim to be. Runs each tool for real on the offline models."""
from __future__ import annotations

import io
import json

import av
import numpy as np
import pytest
import soundfile as sf
import webvtt
from PIL import Image

from tests.helpers import Assets
from tests.integration.test_caption import make_test_video
from tools.base import ToolError
from tools.media.audio import encode_wav
from tools.media.image import encode_png
from tools.registry import BUILTIN_TOOLS, all_tools, get_tool

SENTENCE = "The keeper lit the lamp. The seal swam home."


def _image(assets: Assets) -> str:
    return assets.add(encode_png(Image.new("RGB", (64, 64), (200, 40, 40))), "image", "image/png")


def _speech(assets: Assets) -> str:
    tone = 0.2 * np.sin(np.linspace(0, 2 * np.pi * 440, 24000)).astype(np.float32)
    return assets.add(encode_wav(tone, 24000), "audio", "audio/wav", duration=1.0)


EXAMPLES = {
    "generate_image": lambda a: {"prompt": "a red fox in snow", "seed": 1, "width": 64, "height": 64},
    "speak": lambda a: {"text": SENTENCE},
    "transcribe": lambda a: {"audio": _speech(a)},
    "clip_score": lambda a: {"image": _image(a), "text": "a red square"},
    "generate_video": lambda a: {"prompt": "a red fox running", "seconds": 1, "fps": 8, "width": 64, "height": 64,
                                 "seed": 1},
    "caption_image": lambda a: {"image": _image(a), "prompt": "a picture of"},
    "caption_video": lambda a: {"video": make_test_video(a), "keyframes": 2},
    "compose_video": lambda a: {"shots": [{"image": _image(a), "narration": _speech(a), "text": SENTENCE},
                                          {"image": _image(a), "seconds": 0.5, "motion": "pan_left"}],
                                "width": 64, "height": 64, "fps": 8},
    "caption_score": lambda a: {"image": _image(a), "text": "a red square"},
    "identity_consistency": lambda a: {"images": [_image(a), _image(a)]},
    "narration_wer": lambda a: {"text": SENTENCE, "audio": _speech(a)},
    "compose_story": lambda a: {"scenes": [{"image": _image(a), "audio": _speech(a), "text": SENTENCE}],
                                "width": 64, "height": 64, "fps": 8},
    "ocr_image": lambda a: {"image": _image(a)},
    "ocr_video": lambda a: {"video": make_test_video(a), "interval": 1.0},
    "classify_image": lambda a: {"image": _image(a), "top_k": 3},
    "describe_image": lambda a: {"image": _image(a)},
}


def test_every_tool_has_an_example():
    assert set(all_tools()) == set(EXAMPLES), "add an example for each new tool to EXAMPLES"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_description_and_schema(name):
    tool = get_tool(name)
    assert len(tool.description()) > 20
    schema = tool.input_model.model_json_schema()
    assert schema["type"] == "object" and schema["properties"]
    json.dumps(schema)
    assert set(tool.outputs.values()) <= {"image", "audio", "video", "subtitles", "document"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_bad_argument_is_named(name, tmp_path):
    tool = get_tool(name)
    args = EXAMPLES[name](Assets(tmp_path))
    with pytest.raises(ToolError, match="`surprise`"):
        tool.parse({**args, "surprise": 1})
    field = next(iter(args))
    with pytest.raises(ToolError, match=f"`{field}"):
        tool.parse({**args, field: {"not": "valid"}})
    with pytest.raises(ToolError, match="JSON object"):
        tool.parse(["not", "a", "dict"])


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_outputs_decode(name, tmp_path, models):
    tool, assets = get_tool(name), Assets(tmp_path)
    result = tool.run(tool.parse(EXAMPLES[name](assets)), assets.context(models))
    assert {a.name for a in result.artifacts} == set(tool.outputs)
    for art in result.artifacts:
        assert art.kind == tool.outputs[art.name]
        _decodes(art)
    if tool.model_role:
        assert result.model_id == models.spec(tool.model_role).model_id


def test_every_builtin_tool_lives_in_the_module_of_its_name():
    assert set(BUILTIN_TOOLS) == set(all_tools())
    assert {name: cls.__module__ for name, cls in all_tools().items()} == {n: f"tools.{n}" for n in BUILTIN_TOOLS}


@pytest.mark.parametrize("name", sorted(n for n, t in all_tools().items() if t.values))
def test_declared_values_are_returned_as_text(name, tmp_path, models):
    tool, assets = get_tool(name), Assets(tmp_path)
    result = tool.run(tool.parse(EXAMPLES[name](assets)), assets.context(models))
    assert all(isinstance(result.values[value], str) for value in tool.values)


def _decodes(art) -> None:
    if art.mime == "image/png":
        img = Image.open(io.BytesIO(art.data))
        assert img.format == "PNG" and img.size == (art.width, art.height)
    elif art.mime == "audio/wav":
        audio, rate = sf.read(io.BytesIO(art.data))
        assert len(audio) / rate == pytest.approx(art.duration, abs=0.01) and np.abs(audio).max() > 0.01
    elif art.mime == "video/mp4":
        with av.open(io.BytesIO(art.data)) as box:
            assert len(box.streams.video) == 1 and box.streams.video[0].codec_context.name == "h264"
            assert len(box.streams.audio) <= 1 and all(a.codec_context.name == "aac" for a in box.streams.audio)
            frames = sum(1 for _ in box.decode(video=0))
        assert frames == pytest.approx(art.duration * art.params["fps"], abs=1)
    elif art.mime == "text/vtt":
        # A tone has no speech, so transcribe's captions may hold no cue; the file must still be valid.
        assert art.data.startswith(b"WEBVTT")
        webvtt.from_buffer(io.StringIO(art.data.decode()))
    else:
        raise AssertionError(f"no decoder check for {art.mime}")


def test_missing_input_asset_is_a_tool_error(tmp_path, models):
    tool, assets = get_tool("clip_score"), Assets(tmp_path)
    with pytest.raises(ToolError, match="does not exist"):
        tool.run(tool.parse({"image": "f" * 32, "text": "x"}), assets.context(models))
    audio = _speech(assets)
    with pytest.raises(ToolError, match="is audio, expected image"):
        tool.run(tool.parse({"image": audio, "text": "x"}), assets.context(models))


def test_speak_refuses_voices_that_would_download(tmp_path, models):
    tool, assets = get_tool("speak"), Assets(tmp_path)
    with pytest.raises(ToolError, match="not installed voice 'nosuchvoice'"):
        tool.run(tool.parse({"text": "Hello there.", "voice": "nosuchvoice"}), assets.context(models))
