"""A narration job on a small library built here: images, broken files, real speech, then a resume."""
import json
import os

import webvtt
from PIL import Image

from agent.runtime import Runtime
from agent.service.runs import narrate_library
from memory import repo
from tests.fixtures.narrate_media import SPEECH, SPEECH_MAX_WER, bar_chart, border, scene, speech_wav, truncated_png
from tools.metrics import word_errors
from tools.model_manager import ModelManager
from tools.narration.metadata import read_embedded
from tools.narration.style import HEDGES, style_problems

ODD_NAME = "<i>rule.png"


def _library(tmp_path, models):
    lib = tmp_path / "lib"
    lib.mkdir()
    scene(lib / "scene.png")
    bar_chart(lib / "chart.png")
    (lib / "chart.context.json").write_text(json.dumps({"purpose": "Visitors per season"}))
    border(lib / ODD_NAME)
    border(lib / "<i>rule.gif")  # same stem as ODD_NAME: outputs keep the extension to stay apart
    truncated_png(lib / "cut.png")
    (lib / "empty.png").write_bytes(b"")
    (lib / "letter.png").write_text("Dear reader, this is text, not a picture.")
    speech_wav(lib / "talk.wav", models)
    (tmp_path / "private.png").write_bytes((lib / "scene.png").read_bytes())
    os.symlink(tmp_path / "private.png", lib / "link.png")
    return lib


def test_library_job_describes_what_it_can_and_resumes_without_model_work(tmp_path, runtime, models):
    lib, out = _library(tmp_path, models), tmp_path / "out"
    report = narrate_library(runtime, [lib], out)
    items = {i["name"]: i for i in report["items"]}
    assert report["totals"] | {"by_kind": None, "seconds": None, "warnings": None} == {
        "items": 9, "done": 5, "failed": 4, "resumed": 0, "wcag": {"1.1.1": 4, "1.2.1": 1},
        "by_kind": None, "seconds": None, "warnings": None}
    _check_images(items, out)
    _check_errors(items)
    _check_audio(items["talk.wav"], out)
    _check_report(out)

    Image.new("RGB", (300, 4), "grey").save(lib / "empty.png")  # fixed since: retried on resume
    (lib / "scene.context.json").write_text(json.dumps({"decorative": True}))  # its context changed: redone
    fresh = Runtime(settings=runtime.settings, profile="offline", db=runtime.db, store=runtime.store,
                    models=ModelManager("offline", models.models_dir))
    again = narrate_library(fresh, [lib], out, resume=True)
    assert fresh.models.loads == {} and fresh.models.loaded() == []
    with runtime.db.session() as s:
        assert repo.list_steps(s, again["run_id"]) == []
        assert repo.get_run(s, again["run_id"]).status == "succeeded"
    by_name = {i["name"]: i for i in again["items"]}
    assert {n for n, i in by_name.items() if i["resumed"]} == set(items) - {"cut.png", "empty.png", "letter.png",
                                                                           "link.png", "scene.png"}
    assert by_name["empty.png"]["status"] == "done" and by_name["empty.png"]["data"]["decorative"] is True
    assert by_name["scene.png"]["data"] == {"decorative": True, "decorative_reason": "sidecar", "alt": "",
                                            "long_description": None}
    assert by_name[ODD_NAME]["data"] == items[ODD_NAME]["data"]


def _check_images(items, out):
    for name in ("scene.png", "chart.png"):
        alt = items[name]["data"]["alt"]
        assert 0 < len(alt) <= 150 and style_problems(alt, max_chars=150, allow=HEDGES) == [], alt
        assert items[name]["data"]["described_by"] == "describe_image"  # offline: never the random captioner
        assert read_embedded(out / items[name]["outputs"]["described_image"])["embedded_alt"] == alt
        assert json.loads((out / items[name]["outputs"]["alt"]).read_text())["alt"] == alt
    assert items[ODD_NAME]["outputs"] == {"alt": "<i>rule.png.alt.json", "described_image": "<i>rule.png.png"}
    assert items["<i>rule.gif"]["outputs"] == {"alt": "<i>rule.gif.alt.json", "described_image": "<i>rule.gif.png"}
    assert items["scene.png"]["outputs"]["alt"] == "scene.alt.json"
    rule = items[ODD_NAME]["data"]
    assert rule["decorative"] is True and rule["alt"] == "" and "thin strip" in rule["decorative_reason"]
    chart = items["chart.png"]["data"]
    assert chart["complex"] == "bar chart" and "4 vertical bars" in chart["long_description"]
    assert read_embedded(out / items["chart.png"]["outputs"]["described_image"])["embedded_description"] == \
        chart["long_description"]
    assert items["scene.png"]["data"]["long_description"] is None
    assert items["scene.png"]["scores"]["alt_chars"] == len(items["scene.png"]["data"]["alt"])


def _check_errors(items):
    assert "truncated" in items["cut.png"]["error"]
    assert items["empty.png"]["error"] == "empty file (0 bytes)"
    assert items["letter.png"]["error"].startswith("mislabelled")
    assert items["link.png"]["error"] == "symlink points outside the library roots"
    assert all(items[n]["status"] == "failed" for n in ("cut.png", "empty.png", "letter.png", "link.png"))


def _check_audio(item, out):
    assert item["status"] == "done" and item["wcag"] == ["1.2.1"]
    captions = webvtt.read(str(out / item["outputs"]["captions"]))
    heard = " ".join(c.text for c in captions)
    assert word_errors(SPEECH, heard).wer <= SPEECH_MAX_WER, heard
    assert (out / item["outputs"]["transcript"]).read_text().strip() == item["data"]["transcript"]
    assert word_errors(SPEECH, item["data"]["transcript"]).wer <= SPEECH_MAX_WER, item["data"]["transcript"]


def _check_report(out):
    saved = json.loads((out / "report.json").read_text())
    assert saved["totals"]["items"] == 9 and json.loads((out / "manifest.json").read_text())["items"]
    page = (out / "report.html").read_text()
    assert "&lt;i&gt;rule.png" in page and "<i>rule" not in page
    assert "1.1.1 Non-text Content" in page
