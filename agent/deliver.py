"""Deliver: copy a run's assets into its output folder, write manifest.json and storybook.html,
and record the run's verdict (its final status is stored later, with its terminal event: see
agent.service.events.finish). Runs for failed runs too, so the reason is in the manifest.
"""
from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

from agent.plan_schema import original_step
from agent.runtime import Runtime
from memory import repo

_EXT = {"image/png": ".png", "audio/wav": ".wav", "video/mp4": ".mp4", "text/vtt": ".vtt",
        "application/json": ".json"}


def output_name(role: str, mime: str) -> str:
    """File name for an asset in the output folder: `image-1.png`, `speech-1.wav`, `story.mp4`,
    `llm-1.json` (the LLM's answers, kept with the rest)."""
    step = family(role)
    return ("story" if step == "video" else step) + _EXT.get(mime, ".bin")


def family(role: str) -> str:
    """The plan step an asset belongs to: `image-2~r1.image` (a revision candidate) -> `image-2`."""
    return original_step(role)


def deliver_run(rt: Runtime, run_id: str, *, status: str, error: str | None,
                selected: set[str] | None = None) -> dict:
    """Write the deliverables; returns the manifest. `selected` are the winning assets (None: all);
    the other candidates are listed too and copied under `candidates/`."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        out = Path(run.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        scores: dict[str, dict[str, float]] = {}
        for score in repo.list_scores(s, run_id=run_id):
            scores.setdefault(score.asset_id, {})[score.metric] = score.value
        rounds = {st.key: st.values["rounds"] for st in repo.list_steps(s, run_id) if "rounds" in (st.values or {})}
        taken: set[str] = set()
        entries = [_copy_asset(rt, a, out, scores.get(a.id, {}), _chosen(a, selected), rounds, taken)
                   for a in repo.list_assets(s, run_id=run_id)]
        manifest = {"run_id": run_id, "status": status, "profile": run.profile, "title": run.title,
                    "request": run.request, "error": error,
                    "storyboard_source": run.info.get("storyboard", {}).get("source"), "assets": entries}
        board = run.info.get("storyboard", {}).get("board")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if status == "succeeded" and board:
        chosen = [e for e in entries if e["selected"]]
        (out / "storybook.html").write_text(storybook_html(board, chosen), encoding="utf-8")
    with rt.db.session() as s:  # after the files: the verdict means the deliverables are written
        repo.set_verdict(s, run_id, status=status, error=error)
    return manifest


def _chosen(asset, selected: set[str] | None) -> bool | None:
    if asset.kind == "document":  # LLM answers are records, not candidates
        return None
    return selected is None or asset.id in selected


def _copy_asset(rt: Runtime, asset, out: Path, scores: dict[str, float], chosen: bool | None,
                rounds: dict[str, int], taken: set[str]) -> dict:
    role = asset.role or asset.id
    name = output_name(role, asset.mime)
    if chosen is False or name in taken:  # losers, and anything that would overwrite a file already written
        name = f"candidates/{role.split('.')[0]}-{asset.id[:8]}{_EXT.get(asset.mime, '.bin')}"
        (out / "candidates").mkdir(exist_ok=True)
    taken.add(name)
    shutil.copyfile(rt.store.path(asset.sha256), out / name)
    return {"id": asset.id, "kind": asset.kind, "role": asset.role, "path": name, "sha256": asset.sha256,
            "mime": asset.mime, "intent": asset.intent, "model": asset.model_id, "seed": asset.seed,
            "parent": asset.parent_id, "duration": asset.duration, "width": asset.width, "height": asset.height,
            "scores": scores, "selected": chosen, "rounds": rounds.get(family(role), 0)}


def storybook_html(board: dict, entries: list[dict]) -> str:
    """A self-contained page: the title, then each scene's picture, narration and audio player."""
    by_role = {f"{family(e['role'])}.{e['role'].split('.')[-1]}": e for e in entries}
    scenes = []
    for i, scene in enumerate(board["scenes"], start=1):
        image, audio = by_role.get(f"image-{i}.image"), by_role.get(f"speech-{i}.audio")
        parts = [f'<section class="scene"><h2>Scene {i}</h2>']
        if image:
            parts.append(f'<img src="{escape(image["path"])}" alt="{escape(scene["picture"])}">')
        parts.append(f"<p>{escape(scene['narration'])}</p>")
        if audio:
            parts.append(f'<audio controls preload="none" src="{escape(audio["path"])}"></audio>')
        scenes.append("".join(parts) + "</section>")
    video = by_role.get("video.video")
    player = (f'<video controls preload="none" src="{escape(video["path"])}">'
              '<track kind="captions" srclang="en" label="English" src="story.vtt" default></video>') if video else ""
    title = escape(board["title"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
img{{width:100%;max-width:32rem;image-rendering:auto;border-radius:6px}}.scene{{margin:2.5rem 0}}
video{{width:100%;max-width:32rem}}</style></head>
<body><main><h1>{title}</h1>{player}{''.join(scenes)}</main></body></html>
"""
