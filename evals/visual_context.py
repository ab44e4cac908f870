"""What on-screen text buys speech recognition: the `visual_context` cases of the narration suite.

Each case is a generated video: a title card showing a name (burned in), then the name spoken in a
sentence by the project's voice (hibari) while the title is still on screen. `ocr_video` reads the
video's frames and the texts it reads become the recogniser's context exactly as narration makes it
(`tools.narration.onscreen.visual_context`); `transcribe` hears the soundtrack twice, with and without
that context. Reported per condition: name accuracy (the name, as shown, is in the transcript) and WER.
The names are ones whisper tiny.en was measured to mishear without help (README, "Describing a media
library"); a name it hears right either way shows up as such, not hidden.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tools.base import AssetView, ToolContext
from tools.media.audio import encode_wav, read_audio, resample
from tools.media.mp4 import encode_mp4
from tools.metrics import word_errors
from tools.narration.onscreen import important, visual_context
from tools.registry import get_tool

SIZE, FPS, RATE = (640, 360), 8, 24000
TITLE_S, SPEECH_AT, TAIL_S = 4.0, 3.0, 1.5  # the title is up 0-4 s; speech starts at 3 s: a 3 s gap first
TITLE_BACKGROUND, SCENE = (20, 30, 60), (60, 110, 70)


def titled_speech_video(path: Path, voice: Any, title: str, sentence: str) -> tuple[float, float]:
    """Writes the case's MP4 to `path`: `title` drawn white on dark blue for TITLE_S seconds, then a plain
    green shot; `sentence` spoken by `voice` (a loaded TTS Voice) from SPEECH_AT. Returns the speech span."""
    speech, _ = voice.speak(sentence, speed=1.0, seed=0)
    speech = np.asarray(speech, np.float32)
    if voice.rate != RATE:
        speech = resample(speech, voice.rate, RATE)
    seconds = SPEECH_AT + len(speech) / RATE + TAIL_S
    audio = np.zeros(round(seconds * RATE), np.float32)
    audio[round(SPEECH_AT * RATE):round(SPEECH_AT * RATE) + len(speech)] = speech
    card, shot = _title_card(title), np.full((SIZE[1], SIZE[0], 3), SCENE, np.uint8)

    def write(mp4) -> None:
        mp4.add_frames(card, round(TITLE_S * FPS))
        mp4.add_frames(shot, round(seconds * FPS) - round(TITLE_S * FPS))
        mp4.add_audio(audio)

    path.write_bytes(encode_mp4(SIZE[0], SIZE[1], FPS, RATE, write))
    return SPEECH_AT, SPEECH_AT + len(speech) / RATE


def _title_card(title: str) -> np.ndarray:
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"), 56)
    image = Image.new("RGB", SIZE, TITLE_BACKGROUND)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), title, font=font)
    draw.text(((SIZE[0] - right + left) // 2, (SIZE[1] - bottom + top) // 2), title, font=font, fill="white")
    return np.asarray(image)


def name_heard(name: str, transcript: str) -> bool:
    """Whether `name` is in the transcript as written (case and punctuation aside, whole words)."""
    words = lambda text: re.findall(r"[\w'-]+", text.casefold())  # noqa: E731
    wanted, heard = words(name), words(transcript)
    return any(heard[i:i + len(wanted)] == wanted for i in range(len(heard) - len(wanted) + 1))


def run_case(models: Any, case: dict[str, Any]) -> dict[str, Any]:
    """One case: the video, what OCR read, and the transcript, name hit and WER with and without context."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storyloom-eval-vc-") as tmp:
        folder, views = Path(tmp), {}

        def add(path: Path, kind: str, mime: str) -> str:
            asset_id = uuid.uuid4().hex  # the tools take asset ids
            views[asset_id] = AssetView(id=asset_id, path=path, kind=kind, mime=mime)
            return asset_id

        ctx = ToolContext(models=models, resolve=views.__getitem__)
        with models.use("tts") as voice:
            titled_speech_video(folder / "video.mp4", voice, case.get("title", case["name"]), case["sentence"])
        ocr = get_tool("ocr_video")
        video_id = add(folder / "video.mp4", "video", "video/mp4")
        shown = important(ocr.run(ocr.parse({"video": video_id}), ctx).values["segments"])
        context = visual_context(shown)
        (folder / "audio.wav").write_bytes(_soundtrack(folder / "video.mp4"))
        audio_id = add(folder / "audio.wav", "audio", "audio/wav")
        out = {"id": case["id"], "name": case["name"], "on_screen": [t["text"] for t in shown], "context": context}
        for label, prompt in (("without", None), ("with", context or None)):
            tool = get_tool("transcribe")
            text = tool.run(tool.parse({"audio": audio_id, "context": prompt}), ctx).values["text"]
            out[label] = {"transcript": text, "name_correct": name_heard(case["name"], text),
                          "wer": round(word_errors(case["sentence"], text).wer, 4)}
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def _soundtrack(video: Path) -> bytes:
    audio, rate = read_audio(video, "the case's video")
    return encode_wav(audio, rate)


def evaluate(models: Any, cases: list[dict[str, Any]], progress: Callable[[str], None] = lambda _: None) -> dict:
    """Every case, then name accuracy and mean WER with and without the visual context."""
    results = []
    for n, case in enumerate(cases, start=1):
        progress(f"visual context {n}/{len(cases)}: {case['id']}")
        results.append(run_case(models, case))
    return {"cases": results, "summary": summarise(results)}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    def side(label: str) -> dict[str, float]:
        return {"name_accuracy": round(sum(r[label]["name_correct"] for r in results) / len(results), 3),
                "wer": round(statistics.mean(r[label]["wer"] for r in results), 4)}

    return {"cases": len(results), "without": side("without"), "with": side("with")} if results else {"cases": 0}
