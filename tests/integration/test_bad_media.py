"""Hostile media: every tool that reads an input refuses a broken one with a clear ToolError, and the
failed step writes nothing to the asset store."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from agent.executor import Executor
from agent.plan_schema import PlanStep
from memory import repo
from tests.integration.test_caption import encode_test_video
from tools.media.audio import encode_wav
from tools.media.image import encode_png


def _png(size=(32, 32)) -> bytes:
    return encode_png(Image.new("RGB", size, (10, 200, 10)))


def _giant_png_header(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge picture: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _wav() -> bytes:
    return encode_wav(0.1 * np.sin(np.linspace(0, 900, 24000)).astype(np.float32), 24000)


GOOD = {"image": _png, "audio": _wav, "video": lambda: encode_test_video()}
MIME = {"image": "image/png", "audio": "audio/wav", "video": "video/mp4"}
CALLS = {  # tool -> (kind of the input, args builder from the input's asset id)
    "clip_score": ("image", lambda i: {"image": i, "text": "a field"}),
    "caption_image": ("image", lambda i: {"image": i}),
    "generate_image": ("image", lambda i: {"prompt": "a fox", "reference": i, "seed": 1, "width": 64, "height": 64}),
    "generate_video": ("image", lambda i: {"prompt": "a fox", "image": i, "seed": 1, "width": 64, "height": 64,
                                           "seconds": 1, "fps": 8}),
    "transcribe": ("audio", lambda i: {"audio": i}),
    "caption_video": ("video", lambda i: {"video": i, "keyframes": 2}),
    "compose_video": ("video", lambda i: {"shots": [{"clip": i}], "width": 64, "height": 64, "fps": 8}),
}


def _broken(kind: str, how: str) -> bytes:
    good = GOOD[kind]()
    if how == "zero-byte":
        return b""
    if how == "truncated":
        return good[: len(good) // 3]
    return GOOD["audio" if kind != "audio" else "image"]()  # another kind's bytes under this kind's label


def _store_files(runtime) -> int:
    return sum(1 for p in runtime.store.root.rglob("*") if p.is_file())


def _step(runtime, tool: str, data: bytes, kind: str):
    sha, _ = runtime.store.put(data)
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="freeform", request="bad media", profile="offline").id
        asset_id = repo.create_asset(s, run_id=run_id, kind=kind, mime=MIME[kind], sha256=sha, size=len(data)).id
    before = _store_files(runtime)
    step = PlanStep(id="s", tool=tool, args=CALLS[tool][1](asset_id))
    outcome = Executor(runtime.db, runtime.store, runtime.models, run_id=run_id, use_cache=False).run_step(step, {})
    return outcome, before


@pytest.mark.parametrize("how", ["zero-byte", "truncated", "mislabelled"])
@pytest.mark.parametrize("tool", sorted(CALLS))
def test_broken_input_is_a_clear_failure_and_stores_nothing(runtime, tool, how):
    kind = CALLS[tool][0]
    outcome, before = _step(runtime, tool, _broken(kind, how), kind)
    assert outcome.status == "failed" and outcome.outputs == {}
    assert "\n" not in outcome.error and len(outcome.error) < 400
    assert "Traceback" not in outcome.error
    assert _store_files(runtime) == before


@pytest.mark.parametrize("tool", ["clip_score", "caption_image", "generate_image"])
def test_oversized_and_bomb_images_are_refused(runtime, tool):
    outcome, before = _step(runtime, tool, _giant_png_header(9000, 10), "image")
    assert outcome.status == "failed" and "9000x10; the limit is 8192 px a side" in outcome.error
    # 64 Mpx: under the side limit, over the pixel limit; refused from the header, before decoding.
    outcome, _ = _step(runtime, tool, _giant_png_header(8000, 8000), "image")
    assert outcome.status == "failed" and "8000x8000; the limit is 8192 px a side and 40 Mpx" in outcome.error
    assert _store_files(runtime) == before + 1  # only the second input itself was stored


def test_text_over_5000_characters_and_unknown_voices_are_refused(runtime):
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="freeform", request="t", profile="offline").id
    executor = Executor(runtime.db, runtime.store, runtime.models, run_id=run_id)
    long = executor.run_step(PlanStep(id="a", tool="speak", args={"text": "word " * 1001}), {})
    assert long.status == "failed" and "at most 5000 characters" in long.error
    voice = executor.run_step(PlanStep(id="b", tool="speak", args={"text": "Hi.", "voice": "zz"}), {})
    assert voice.status == "failed" and "voice 'zz'" in voice.error
