"""Review on the command line: `storyloom story --review` stops after planning with storyboard.yaml in
the output folder and the next command; a bad edited file is one line and exit 2; `runs approve`
renders the edited board. The story runs as a user runs it (a subprocess, done before any model
loads); the approves run in this process with the session's loaded models."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from api.cli import review as cli_review
from api.cli.main import main
from memory import repo
from tests.helpers import small_stories


def storyloom(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])


def test_story_review_then_approve_the_edited_file(env, runtime, tmp_path, monkeypatch, capsys):
    env = {**env, "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "2"}
    out = tmp_path / "out"
    paused = storyloom(env, "story", "a story about an owl and the moon", "--scenes", "1", "--seed", "2",
                       "--review", "--out", str(out))
    assert paused.returncode == 0, paused.stderr[-2000:]
    run_id = paused.stdout.split("run ", 1)[1].split()[0]
    board_file = out / "storyboard.yaml"
    assert f"next: storyloom runs approve {run_id} --storyboard {board_file}" in paused.stdout
    board = yaml.safe_load(board_file.read_text())
    assert board["scenes"][0]["number"] == 1 and board["scenes"][0]["seed"] == 3
    assert not (out / "story.mp4").exists()

    monkeypatch.setattr(cli_review, "runtime", lambda profile: runtime)  # the session's models, not new ones
    bad = {**board, "scenes": [{**board["scenes"][0], "narration": ""}]}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    assert main(["runs", "approve", run_id, "--storyboard", str(tmp_path / "bad.yaml")]) == 2
    refused = capsys.readouterr()
    assert refused.out == "" and refused.err.count("\n") == 1
    assert "scenes.0.narration: must not be empty" in refused.err

    board["scenes"][0]["picture"] = "a white owl in front of a full moon"
    board_file.write_text(yaml.safe_dump(board))
    small_stories(runtime.settings, closed_llm=False)
    args = argparse.Namespace(run_id=run_id, storyboard=board_file, profile=None, json=True)
    assert cli_review.runs_approve(args) == 0, capsys.readouterr().out[-2000:]
    assert (out / "story.mp4").exists()
    with runtime.db.session() as s:
        plan = repo.get_run(s, run_id).plan
    prompt = next(s for s in plan["steps"] if s["id"] == "image-1")["args"]["prompt"]
    assert prompt.startswith("a white owl in front of a full moon")
