"""Model work on a real local Ray: the same story gives the same files as the local backend, and an
actor that dies in the middle of a call is restarted and its call retried."""
from __future__ import annotations

import os

import pytest

from agent.llm import ServerLLM
from agent.ray_backend import RayBackend
from agent.ray_worker import CRASH_FILE_VARIABLE
from agent.requests import StoryRequest
from agent.runtime import Runtime
from agent.service.runs import create_story_run, execute_run
from agent.settings import LLMSettings, Settings
from memory import AssetStore, open_database, repo
from tools.base import ToolContext
from tools.registry import get_tool

PROMPT = "a bedtime story about a lighthouse keeper and a seal"
# The roles of a story's steps and scores (the critic's CLIP gate and the storyboard's LLM stay local).
STORY_ROLES = ("text_to_image", "tts", "stt", "captioner", "clip")


def _story_files(runtime: Runtime) -> dict[str, str]:
    """Run a 2-scene story (scores only, no revision round) and return each asset's role -> sha256."""
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=2))  # fallback board
    run_id = create_story_run(runtime, StoryRequest(prompt=PROMPT, scenes=2, seed=4))
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    with runtime.db.session() as s:
        return {a.role: a.sha256 for a in repo.list_assets(s, run_id=run_id)}


def _with(settings: Settings, **groups) -> Settings:
    return settings.model_copy(update={name: getattr(settings, name).model_copy(update=values)
                                       for name, values in groups.items()})


def test_a_story_on_ray_gives_the_same_files_as_on_the_local_backend(ray_local, runtime, tmp_path):
    runtime.settings = _with(runtime.settings, critic={"max_rounds": 0})
    settings = _with(runtime.settings.model_copy(update={"data_dir": tmp_path / "ray-data"}),
                     executor={"backend": "ray"})
    on_ray = Runtime(settings=settings, profile="offline", db=open_database(settings.db_url),
                     store=AssetStore(settings.assets_path), models=runtime.models)
    assert isinstance(on_ray.backend, RayBackend)
    try:
        warming = on_ray.backend.prepare(list(STORY_ROLES))  # the actors start while the local story runs
        local = _story_files(runtime)
        ray_local.get(warming)
        remote = _story_files(on_ray)
        workers = {role: ray_local.get(on_ray.backend.actor(role).ping.remote()) for role in on_ray.backend.roles()}
    finally:
        on_ray.backend.close()
    assert {"image-1.image", "image-2.image", "speech-1.audio", "speech-2.audio", "video.video"} <= local.keys()
    assert remote == local
    # The model work happened in the actors, each in its own process with its role's model loaded there.
    assert set(STORY_ROLES) == workers.keys()
    assert all(w["pid"] != os.getpid() and role in w["loaded"] for role, w in workers.items())


def test_an_actor_killed_mid_call_is_restarted_and_the_call_retried(ray_local, runtime, tmp_path, monkeypatch):
    crash = tmp_path / "crash-once"
    monkeypatch.setenv(CRASH_FILE_VARIABLE, str(crash))
    backend = RayBackend(runtime.settings, "offline")
    tool = get_tool("speak")
    args = tool.parse({"text": "The seal came back to the lighthouse.", "seed": 7})
    ctx = ToolContext(models=runtime.models, resolve=lambda asset_id: pytest.fail(f"unexpected input {asset_id}"))
    try:
        first = ray_local.get(backend.actor("tts").ping.remote())
        crash.touch()
        [result] = backend.run(tool, [args], ctx)
        second = ray_local.get(backend.actor("tts").ping.remote())
    finally:
        backend.close()
    assert not crash.exists(), "the actor never reached the crash"
    assert second["pid"] != first["pid"] and second["loads"] == {"tts": 1}  # a new process, the model reloaded
    local = tool.run(args, ctx)  # the same call in this process
    assert [a.data for a in result.artifacts] == [a.data for a in local.artifacts]
