"""A content brief run through the real graph on the offline models: plan, execute, critique, deliver."""
import json
from pathlib import Path

from agent.recipes.brief import Brief
from agent.service.runs import create_brief_run, execute_run
from memory import repo

SAID = "Light for every campsite, charged by the sun."


def _fast(runtime):
    runtime.settings = runtime.settings.model_copy(
        update={"critic": runtime.settings.critic.model_copy(update={"max_rounds": 0})})
    return runtime


def test_a_brief_with_an_image_its_caption_and_a_narration_succeeds(runtime):
    brief = Brief(goal="launch our solar camping lantern", audience="families who camp", style="warm dusk light",
                  deliverables=[{"kind": "image", "width": 64, "height": 64, "steps": 2},
                                {"kind": "caption", "of": 0},
                                {"kind": "narration", "text": SAID}], seed=5)
    run_id = create_brief_run(_fast(runtime), brief, api_key_id=None)
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    assert summary["kind"] == "brief" and summary["title"] == "launch our solar camping lantern"
    assert {s["key"]: s["status"] for s in summary["steps"]} == {
        "image-1": "succeeded", "caption-2": "succeeded", "speech-3": "succeeded"}
    with runtime.db.session() as s:
        run = repo.get_run(s, run_id)
        assert Brief.model_validate(run.info["brief"]) == brief and run.plan["kind"] == "brief"
        steps = {st.key: st for st in repo.list_steps(s, run_id)}
        caption = steps["caption-2"].values["caption"]
        assets = {a.role: a for a in repo.list_assets(s, run_id=run_id) if a.kind != "document"}
        scores = {(sc.asset_id, sc.metric) for sc in repo.list_scores(s, run_id=run_id)}
    assert isinstance(caption, str) and caption.strip()  # gibberish words from the tiny BLIP, but words
    image, speech = assets["image-1.image"], assets["speech-3.audio"]
    assert (image.width, image.height, image.seed) == (64, 64, 15)  # the brief seed + 10 x (position + 1)
    assert speech.intent == SAID and speech.duration > 1
    # The critic judged both revisable deliverables against their intents.
    assert (image.id, "clip_score") in scores and (speech.id, "narration_wer") in scores
    manifest = json.loads((Path(summary["output_dir"]) / "manifest.json").read_text())
    files = {a["path"] for a in manifest["assets"]}
    assert {"image-1.png", "speech-3.wav"} <= files and manifest["status"] == "succeeded"


def test_a_brief_stored_badly_fails_planning_with_its_reason(runtime):
    brief = Brief(goal="g", deliverables=[{"kind": "narration", "text": "Hello there."}])
    run_id = create_brief_run(_fast(runtime), brief)
    with runtime.db.session() as s:
        repo.update_run(s, run_id, info={"brief": {"goal": "g", "deliverables": []}})
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "failed"
    assert summary["error"].startswith("planning failed: the run's brief is not valid")
