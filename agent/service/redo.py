"""After a story run: redo one scene as a new run, and lock or unlock scenes.

A redo is a new story run in the same session (when there is one) that keeps the earlier run's seed,
storyboard and delivered candidates, so only the changed scene's steps and the video are computed;
its plan is made by `agent.planning.dispatch` from `info["redo"]`. Locks are stored on the run's
storyboard (`info["storyboard"]["board"]["scenes"][n]["locked"]`) and travel with it into every run
built on it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agent.recipes.redo import Conflict, SceneRedo, apply_redo, check_scene, scene_steps
from agent.recipes.storyboard import Storyboard
from agent.runtime import Runtime
from agent.service.runs import create_run
from memory import repo


def finished_story(run: Any) -> Storyboard:
    """The storyboard of a finished story run; Conflict (one line) for any other run."""
    board = ((run.info or {}).get("storyboard") or {}).get("board")
    if run.status != "succeeded":
        raise Conflict(f"run {run.id} is {run.status}; only a finished story's scenes can change")
    if run.kind != "story" or not board:
        raise Conflict(f"run {run.id} is not a story with a storyboard; only a finished story's scenes can change")
    return Storyboard.model_validate(board)


def delivered_args(s: Session, run_id: str) -> dict[str, dict[str, Any]]:
    """Step id -> the arguments of the candidate the run delivered for it (the critic's winner)."""
    found = {}
    for step in repo.list_steps(s, run_id):
        selected = (step.values or {}).get("selected")
        asset = repo.get_asset(s, selected) if selected else None
        args = (asset.params or {}).get("args") if asset is not None else None
        found[step.key] = args if args else step.args
    return found


def redo_info(s: Session, run: Any, redo: SceneRedo, *, style: str | None = None) -> dict[str, Any]:
    """The new run's info: the earlier board, the change, and what the earlier run delivered."""
    board = apply_redo(finished_story(run), redo, base_seed=run.seed or 0)  # checks range and lock
    delivered = {k: v for k, v in delivered_args(s, run.id).items()
                 if k not in scene_steps(redo.scene)}
    info = {"scenes": len(board.scenes), "redo": {"base_run": run.id, "change": redo.record(),
                                                  "board": board.model_dump(), "delivered": delivered}}
    return {**info, "style": style} if style is not None else info


def check_redo(rt: Runtime, run_id: str, number: int, *, api_key_id: str | None = None) -> None:
    """The errors `start_redo` would raise, without creating anything."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id, owner=api_key_id)
        if run is None:
            raise KeyError(f"no run {run_id!r}")
        check_scene(finished_story(run), number)


def start_redo(rt: Runtime, run_id: str, redo: SceneRedo, *, api_key_id: str | None = None,
               message: str | None = None) -> str:
    """Queue the redo of one scene of run `run_id`; returns the new run's id. KeyError for a run that is
    not the key's, ValueError naming `scene` out of range, Conflict for a run that is not a finished story
    or a locked scene. `message` is the chat turn that asked for it (recorded with the run)."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id, owner=api_key_id)
        if run is None:
            raise KeyError(f"no run {run_id!r}")
        pins = repo.get_session(s, run.session_id).pins if run.session_id else None
        info = redo_info(s, run, redo, style=(pins or {}).get("style"))
        fields = {"request": run.request, "seed": run.seed or 0, "session_id": run.session_id,
                  "api_key_id": run.api_key_id}
    if message is None and fields["session_id"]:
        message = f"redo {redo.describe()}"
    return create_run(rt, kind="story", info=info, message=message if fields["session_id"] else None, **fields)


def set_locked(rt: Runtime, run_id: str, number: int, locked: bool, *, api_key_id: str | None = None) -> Storyboard:
    """Lock (or unlock) scene `number` of a finished story run; returns the storyboard. KeyError,
    ValueError naming `scene`, Conflict as for `start_redo`."""
    with rt.db.session() as s:
        run = repo.get_run_for_update(s, run_id, owner=api_key_id)
        if run is None:
            raise KeyError(f"no run {run_id!r}")
        board = finished_story(run)
        check_scene(board, number, changing=False)
        scenes = list(board.scenes)
        scenes[number - 1] = scenes[number - 1].model_copy(update={"locked": locked})
        board = board.model_copy(update={"scenes": scenes})
        info = dict(run.info)
        info["storyboard"] = {**info["storyboard"], "board": board.model_dump()}
        repo.update_run(s, run_id, info=info)
    return board
