"""The evaluation harness end to end: suites run for real and both reports are written."""
import json
import subprocess
import sys
from pathlib import Path

from evals import harness, report


def test_every_suite_loads_and_there_are_enough_cases():
    sizes = {name: len(harness.load_suite(name)["cases"]) for name in harness.suite_names()}
    assert {"story", "narration"} <= set(sizes) and sum(sizes.values()) >= 20


def test_narration_suite_reports(runtime, tmp_path):
    results = harness.run_suite(runtime, "narration", limit=2)
    json_path, html_path = report.write_reports(results, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert data["profile"] == "offline" and data["summary"]["cases"] == 2
    assert data["summary"]["metrics"]["narration_wer"]["n"] == 2
    assert data["summary"]["metrics"]["narration_wer"]["max"] <= runtime.settings.critic.gates.offline.max_wer
    # Exactness is reported, not tested: the count of scripts heard word for word and the corpus WER.
    cases, round_trip = data["cases"], data["summary"]["round_trip"]
    assert round_trip["scripts"] == 2 and round_trip["exact"] == sum(c["metrics"]["narration_wer"] == [0.0]
                                                                     for c in cases)
    errors, words = sum(c["word_errors"] for c in cases), sum(c["words"] for c in cases)
    assert words == sum(len(case["text"].split()) for case in harness.load_suite("narration")["cases"][:2])
    assert round_trip["corpus_wer"] == round(errors / words, 4) <= runtime.settings.critic.gates.offline.max_wer
    html = html_path.read_text()
    assert "data:image/png;base64," in html and "strong TTS round trip" in html and "tiny random models" in html
    assert f"{round_trip['exact']} of 2 scripts heard word for word" in html
    # Visual context: 2 generated videos show and speak a name (Okonkwo, Xiomara); with what OCR read on
    # screen as context the name is heard as shown (without it tiny.en was measured to mishear both).
    seen = data["visual_context"]
    assert [c["on_screen"] for c in seen["cases"]] == [["Okonkwo"], ["Xiomara"]]
    assert seen["summary"]["with"]["name_accuracy"] == 1.0, seen["cases"]
    assert seen["summary"]["with"]["name_accuracy"] >= seen["summary"]["without"]["name_accuracy"]
    assert data["summary"]["visual_context"] == seen["summary"] and "Visual context (2 videos" in html


def test_story_eval_from_the_command_line(env, tmp_path):
    env = {**env, "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "1",
           "STORYLOOM_CRITIC__MAX_ROUNDS": "1"}
    out = tmp_path / "report"
    cli = str(Path(sys.executable).parent / "storyloom")
    result = subprocess.run([cli, "eval", "story", "--limit", "1", "--out", str(out)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads((out / "report.json").read_text())
    case = data["cases"][0]
    assert case["status"] == "succeeded" and {"clip_score", "clip_gate", "narration_wer"} <= set(case["metrics"])
    assert all(r <= 1 for r in case["rounds"]) and {"plan", "execute", "critique"} <= set(case["stages"])
    assert "clip_score" in data["summary"]["metrics"] and (out / "report.html").is_file()
    bad = subprocess.run([cli, "eval", "nosuch"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "no suite 'nosuch'" in bad.stderr
