"""The `storyloom` command end to end, in subprocesses, exactly as a user runs it."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import av
import jiwer
import numpy as np
import pytest

from tests.integration.test_speech_roundtrip import normalise

PROMPT = "a bedtime story about a lighthouse keeper and a seal"


def storyloom(env, *args, timeout=600):
    """Run the installed console script, as a user would."""
    return subprocess.run([str(Path(sys.executable).parent / "storyloom"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def story(tmp_path_factory, models_dir):
    """One real 2-scene story with the embedded LLM, shared by the checks below."""
    import os

    base = tmp_path_factory.mktemp("story")
    env = {**os.environ, "STORYLOOM_DATA_DIR": str(base / "data"), "STORYLOOM_MODELS_DIR": str(models_dir),
           "STORYLOOM_PROFILE": "offline"}
    env = {k: v for k, v in env.items() if not k.startswith("STORYLOOM_LLM")}
    out = base / "out"
    result = storyloom(env, "story", PROMPT, "--scenes", "2", "--seed", "11", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    return env, out, result, json.loads((out / "manifest.json").read_text())


def test_outputs_and_manifest(story):
    _, out, result, manifest = story
    assert {"storybook.html", "story.mp4", "story.vtt", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert manifest["status"] == "succeeded" and manifest["profile"] == "offline" and manifest["title"]
    roles = [a["role"].split("~")[0].split(".")[0] + "." + a["role"].split(".")[-1]
             for a in manifest["assets"] if a["selected"]]
    assert sorted(roles) == ["image-1.image", "image-2.image", "speech-1.audio", "speech-2.audio", "video.subtitles",
                             "video.video"]
    answers = [a for a in manifest["assets"] if a["kind"] == "document"]
    # Every LLM answer is kept as a JSON asset (at least the title and cast).
    assert answers and all(a["mime"] == "application/json" and a["model"] and a["role"].startswith("llm-")
                           for a in answers)
    for asset in manifest["assets"]:
        assert hashlib.sha256((out / asset["path"]).read_bytes()).hexdigest() == asset["sha256"]
        assert {"id", "kind", "role", "path", "sha256", "mime", "intent", "model", "seed", "scores"} <= set(asset)
    assert all("clip_score" in a["scores"] and "clip_gate" in a["scores"]
               for a in manifest["assets"] if a["kind"] == "image")
    assert all(a["rounds"] <= 2 for a in manifest["assets"])  # STORYLOOM_CRITIC__MAX_ROUNDS defaults to 2
    html = (out / "storybook.html").read_text()
    assert "image-1.png" in html and "speech-2.wav" in html and "<audio" in html
    assert "story.mp4" in result.stdout and "scene" in result.stdout


def test_video_is_h264_aac_and_as_long_as_the_narration(story):
    _, out, _, manifest = story
    narration = sum(a["duration"] for a in manifest["assets"] if a["kind"] == "audio" and a["selected"])
    with av.open(str(out / "story.mp4")) as box:
        assert [(s.type, s.codec_context.name) for s in box.streams] == [("video", "h264"), ("audio", "aac")]
        assert abs(box.duration / 1e6 - narration) <= 0.25


def test_narration_is_real_speech(story, models):
    """Decode the MP4's audio track and hear it back with whisper tiny.en."""
    _, out, _, manifest = story
    script = " ".join(a["intent"] for a in manifest["assets"] if a["kind"] == "audio" and a["selected"])
    with av.open(str(out / "story.mp4")) as box:
        audio = np.concatenate([f.to_ndarray().mean(axis=0) for f in box.decode(audio=0)])
    rate = 24000
    audio16 = np.interp(np.arange(0, len(audio), rate / 16000), np.arange(len(audio)), audio).astype(np.float32)
    segments, _ = models.get("stt").transcribe(audio16, language="en", beam_size=1)
    heard = " ".join(s.text for s in segments)
    # The LLM invents names whisper may spell differently; the words around them must come back.
    assert jiwer.wer(normalise(script), normalise(heard)) < 0.3


def test_runs_list_and_show(story):
    env, _, _, manifest = story
    listed = storyloom(env, "runs", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["id"] == manifest["run_id"]
    shown = storyloom(env, "runs", "show", manifest["run_id"])
    assert shown.returncode == 0 and "video" in shown.stdout and "succeeded" in shown.stdout
    missing = storyloom(env, "runs", "show", "nope")
    assert missing.returncode == 2 and missing.stderr.strip() == "storyloom: error: no run with id 'nope'"


def test_models_list(env):
    result = storyloom(env, "models", "list", "--json")
    rows = {r["role"]: r for r in json.loads(result.stdout)}
    assert rows["text_to_image"]["kind"] == "tiny-random" and rows["clip"]["kind"] == "tiny-random"
    assert all(rows[r]["kind"] == "real" for r in ("tts", "stt", "embedder", "llm"))
    assert all(r["profile"] == "offline" for r in rows.values())
    cpu = {r["role"]: r for r in json.loads(storyloom(env, "models", "list", "--profile", "cpu", "--json").stdout)}
    assert cpu["text_to_image"]["model_id"] == "stabilityai/sd-turbo" and cpu["text_to_image"]["kind"] == "real"


@pytest.mark.parametrize("args,message", [
    (["story", ""], "prompt: the prompt is empty"),
    (["story", "   "], "prompt: the prompt is empty"),
    (["story", "a fox", "--scenes", "0"], "--scenes must be between 1 and 24"),
    (["story", "a fox", "--scenes", "25"], "--scenes must be between 1 and 24"),
    (["story", "a fox", "--profile", "quantum"], "argument --profile: invalid choice: 'quantum'"),
    (["story", "a fox", "--out", "/proc/storyloom"], "--out /proc/storyloom: cannot write in /proc"),
    (["story", "x" * 2001], "prompt: String should have at most 2000 characters"),
    (["worker", "--workers", "0"], "--workers 0: must be 1-64"),
    (["serve", "--workers", "65"], "--workers 65: must be 0-64"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(env, tmp_path, args, message):
    result = storyloom(env, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "data").exists()


def test_out_under_a_file_is_refused(env, tmp_path):
    (tmp_path / "file").write_text("x")
    result = storyloom(env, "story", "a fox", "--out", str(tmp_path / "file" / "out"))
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_a_failed_run_exits_1_with_its_reason_and_no_traceback(env, tmp_path, models_dir):
    import shutil

    broken = tmp_path / "models"
    shutil.copytree(models_dir / "tiny" / "tiny-sd", broken / "tiny" / "tiny-sd")
    (broken / "tiny" / "tiny-sd" / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"garbage")
    env = {**env, "STORYLOOM_MODELS_DIR": str(broken), "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1",
           "STORYLOOM_LLM__TIMEOUT": "2"}
    result = storyloom(env, "story", "a fox in the snow", "--scenes", "1", "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"].startswith("step image-1 failed: model")
    shown = storyloom(env, "runs", "show", manifest["run_id"])
    assert "failed" in shown.stdout and "step image-1 failed" in " ".join(shown.stdout.split())


def test_help_loads_no_heavy_library(env):
    code = ("import sys\nfrom api.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "names = ('torch', 'diffusers', 'transformers', 'langgraph', 'sqlalchemy')\n"
            "heavy = [m for m in names if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert "HEAVY []" in result.stdout


FREE_FORM = "draw a red fox in snow, make a 4 second clip of it running, caption the clip and read the caption aloud"


def test_plan_and_run_a_free_form_request(env, tmp_path):
    """With the LLM server down, the planner says so and falls back to the deterministic recipe."""
    env = {**env, "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "1",
           "STORYLOOM_CRITIC__MAX_ROUNDS": "0"}
    planned = storyloom(env, "plan", FREE_FORM, "--json")
    assert planned.returncode == 0, planned.stderr[-1500:]
    data = json.loads(planned.stdout)
    assert data["intent"] == "freeform" and data["source"] == "fallback" and data["fallback_reason"]
    assert [s["tool"] for s in data["plan"]["steps"]] == ["generate_image", "generate_video", "caption_video", "speak"]
    ran = storyloom(env, "run", FREE_FORM, "--out", str(tmp_path / "out"), "--json")
    assert ran.returncode == 0, ran.stderr[-1500:]
    summary = json.loads(ran.stdout)
    assert summary["status"] == "succeeded" and summary["kind"] == "freeform"
    kinds = {a["kind"] for a in summary["assets"] if a["selected"]}
    assert {"image", "video", "audio"} <= kinds
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    empty = storyloom(env, "run", "   ")
    assert empty.returncode == 2 and "the request is empty" in empty.stderr


def test_planner_eval_prints_its_table(env):
    env = {**env, "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "1"}
    result = storyloom(env, "eval", "planner", "--limit", "3")
    assert result.returncode == 0, result.stderr[-1500:]
    assert "node F1" in result.stdout and "fallback" in result.stdout
