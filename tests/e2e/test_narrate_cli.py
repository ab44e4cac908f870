"""`storyloom narrate` in-process on a mixed folder: bad arguments, dry run, a real run, a resume."""
import json

import pytest
import webvtt

from api.cli import main
from tests.fixtures.narrate_media import border, scene, truncated_png
from tests.integration.test_narrate_video import SIDECAR, build_video


@pytest.fixture
def library(tmp_path, models):
    lib = tmp_path / "lib"
    (lib / "clips").mkdir(parents=True)
    scene(lib / "scene.jpg")
    border(lib / "rule.png")
    truncated_png(lib / "broken.png")
    with models.use("tts") as voice:
        build_video(lib / "clips" / "harbour.mp4", voice.tts)
    (lib / "clips" / "harbour.context.json").write_text(json.dumps(SIDECAR))
    return lib


def test_bad_paths_print_one_line_and_write_nothing(env, tmp_path, capsys):
    assert main(["narrate", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing: no such file or folder" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "data").exists()


def test_an_out_folder_holding_the_library_is_refused(env, tmp_path, capsys):
    (tmp_path / "site" / "media").mkdir(parents=True)
    scene(tmp_path / "site" / "media" / "a.png")
    assert main(["narrate", str(tmp_path / "site" / "media"), "--out", str(tmp_path / "site"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out must not contain the library" in err


def test_dry_run_lists_and_writes_nothing(env, library, tmp_path, capsys):
    assert main(["narrate", str(library), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(i["name"], i["kind"], i["would"] != "fail") for i in plan["items"]] == [
        ("broken.png", None, False), ("clips/harbour.mp4", "video", True), ("rule.png", "image", True),
        ("scene.jpg", "image", True)]
    assert plan["out_dir"] == str(tmp_path / "data" / "narrations" / "lib")
    assert not (tmp_path / "data").exists()


def test_a_folder_is_narrated_then_resumed_without_model_work(env, library, tmp_path, capsys):
    assert main(["narrate", str(library), "--json"]) == 1  # broken.png failed, the rest went on
    report = json.loads(capsys.readouterr().out)
    out = tmp_path / "data" / "narrations" / "lib"
    items = {i["name"]: i for i in report["items"]}
    assert {n: i["status"] for n, i in items.items()} == {
        "broken.png": "failed", "clips/harbour.mp4": "done", "rule.png": "done", "scene.jpg": "done"}
    assert items["scene.jpg"]["outputs"]["described_image"] == "scene.jpg"
    video = items["clips/harbour.mp4"]
    assert {"1.2.3", "1.2.5"} <= set(video["wcag"]) and video["gaps"]["used"]
    assert video["outputs"]["ad_vtt"] == "clips/harbour.ad.vtt"  # mirrors the library, like images
    assert list(webvtt.read(str(out / video["outputs"]["ad_vtt"])))
    assert (out / "report.html").is_file() and report["totals"]["wcag"]["1.1.1"] == 2

    assert main(["narrate", str(library), "--resume", "--json"]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["totals"]["resumed"] == 3 and again["totals"]["failed"] == 1
    assert _steps(again["run_id"]) == []  # no tool (model) call at all in the resumed run


def _steps(run_id):
    from agent.runtime import Runtime
    from agent.settings import Settings
    from memory import repo

    rt = Runtime.open(Settings())
    with rt.db.session() as s:
        return repo.list_steps(s, run_id)
