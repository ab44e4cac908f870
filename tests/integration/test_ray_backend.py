"""Model work on a real local Ray: the same story gives the same files as the local backend, an actor
that dies in the middle of a call is restarted and its call retried, and a tool's refusal inside an
actor fails the call with the same line as in this process. The actors of the module's Ray runtime are
shared by its tests (each start costs a process and a model load)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.llm import ServerLLM
from agent.ray_backend import RayBackend
from agent.ray_worker import CRASH_FILE_VARIABLE
from agent.requests import StoryRequest
from agent.runtime import Runtime
from agent.service.runs import create_story_run, execute_run
from agent.settings import LLMSettings, Settings
from memory import AssetStore, open_database, repo
from tools.base import ToolContext, ToolError
from tools.registry import get_tool

PROMPT = "a bedtime story about a lighthouse keeper and a seal"
# The roles of a story's steps and scores (the critic's CLIP gate and the storyboard's LLM stay local).
STORY_ROLES = ("text_to_image", "tts", "stt", "captioner", "clip")


def _with(settings: Settings, **groups) -> Settings:
    return settings.model_copy(update={name: getattr(settings, name).model_copy(update=values)
                                       for name, values in groups.items()})


@pytest.fixture(scope="module")
def crash_file(tmp_path_factory) -> Iterator[Path]:
    """The test hook's file: while it exists, the next call an actor receives kills that actor."""
    path = tmp_path_factory.mktemp("ray-hook") / "crash-once"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CRASH_FILE_VARIABLE, str(path))  # read when the backend is made, handed to its actors
        yield path


@pytest.fixture(scope="module")
def ray_runtime(ray_local, crash_file, models, models_dir, tmp_path_factory) -> Iterator[Runtime]:
    """A Runtime on the Ray backend with its own data dir, sharing the session's local models (the
    critic's CLIP gate runs here)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("ray-data"), models_dir=models_dir, profile="offline")
    settings = _with(settings, executor={"backend": "ray"}, critic={"max_rounds": 0})
    rt = Runtime(settings=settings, profile="offline", db=open_database(settings.db_url),
                 store=AssetStore(settings.assets_path), models=models)
    assert isinstance(rt.backend, RayBackend)
    try:
        yield rt
    finally:
        rt.backend.close()


def _story_files(runtime: Runtime) -> dict[str, str]:
    """Run a 2-scene story and return each asset's role -> sha256."""
    runtime._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=2))  # fallback board
    run_id = create_story_run(runtime, StoryRequest(prompt=PROMPT, scenes=2, seed=4))
    summary = execute_run(runtime, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    with runtime.db.session() as s:
        return {a.role: a.sha256 for a in repo.list_assets(s, run_id=run_id)}


def _no_inputs(models) -> ToolContext:
    return ToolContext(models=models, resolve=lambda asset_id: pytest.fail(f"unexpected input {asset_id}"))


def test_a_story_on_ray_gives_the_same_files_as_on_the_local_backend(ray_local, ray_runtime, runtime):
    runtime.settings = _with(runtime.settings, critic={"max_rounds": 0})
    warming = ray_runtime.backend.prepare(list(STORY_ROLES))  # the actors start while the local story runs
    local = _story_files(runtime)
    ray_local.get(warming)
    remote = _story_files(ray_runtime)
    assert {"image-1.image", "image-2.image", "speech-1.audio", "speech-2.audio", "video.video"} <= local.keys()
    assert remote == local
    # The model work happened in the actors, each in its own process with its role's model loaded there.
    workers = {role: ray_local.get(ray_runtime.backend.actor(role).ping.remote())
               for role in ray_runtime.backend.roles()}
    assert set(STORY_ROLES) == workers.keys()
    assert all(w["pid"] != os.getpid() and role in w["loaded"] for role, w in workers.items())


def test_an_actor_killed_mid_call_is_restarted_and_the_call_retried(ray_local, ray_runtime, crash_file, models):
    backend, tool = ray_runtime.backend, get_tool("speak")
    args = tool.parse({"text": "The seal came back to the lighthouse.", "seed": 7})
    first = ray_local.get(backend.actor("tts").ping.remote())
    crash_file.touch()
    [result] = backend.run(tool, [args], _no_inputs(models))
    second = ray_local.get(backend.actor("tts").ping.remote())
    assert not crash_file.exists(), "the actor never reached the crash"
    assert second["pid"] != first["pid"] and second["loads"] == {"tts": 1}  # a new process, the model reloaded
    local = tool.run(args, _no_inputs(models))  # the same call in this process
    assert [a.data for a in result.artifacts] == [a.data for a in local.artifacts]


def test_a_tool_refusal_inside_an_actor_fails_the_call_with_its_line(ray_runtime, models):
    tool = get_tool("speak")
    args = tool.parse({"text": "Hello.", "voice": "nobody"})
    with pytest.raises(ToolError) as local:
        tool.run(args, _no_inputs(models))
    with pytest.raises(ToolError) as remote:
        ray_runtime.backend.run(tool, [args], _no_inputs(models))
    assert str(remote.value) == str(local.value) and "unknown or not installed voice 'nobody'" in str(remote.value)


def test_a_cancelled_run_stops_waiting_for_its_actor(ray_local, ray_runtime, models):
    tool, asked = get_tool("speak"), []
    args = tool.parse({"text": "The keeper climbed the stairs and lit the lamp for the boats. " * 20, "seed": 1})

    def cancelled() -> bool:  # the run is cancelled once the call is on its way
        asked.append(True)
        return len(asked) > 1

    ctx = ToolContext(models=models, resolve=lambda asset_id: pytest.fail(f"unexpected input {asset_id}"),
                      cancelled=cancelled)
    with pytest.raises(ToolError, match="^cancelled$"):
        ray_runtime.backend.run(tool, [args], ctx)
    assert len(asked) == 2  # asked before sending, then at the first look while the actor worked
    assert ray_local.get(ray_runtime.backend.actor("tts").ping.remote())["loaded"] == ["tts"]  # it still answers


OWNER_PROBE = """
from concurrent.futures import ThreadPoolExecutor
import ray
from agent.ray_backend import RayBackend
from agent.settings import Settings
backend = RayBackend(Settings(profile="offline"), "offline")
with ThreadPoolExecutor(1, thread_name_prefix="step") as pool:  # as the executor's waves call models
    first = pool.submit(lambda: ray.get(backend.actor("tts").ping.remote(), timeout=300)).result()
# The step thread has ended: Ray's own processes (GCS, raylet) must still be there to make a new actor.
second = ray.get(backend.actor("stt").ping.remote(), timeout=120)
print("ok" if second["pid"] != first["pid"] else "same process")
backend.close()
"""


@pytest.mark.slow  # its own Ray in a subprocess: 30 s or more on 2 cores
def test_a_local_ray_started_from_a_step_thread_outlives_that_thread(models_dir):
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "STORYLOOM_MODELS_DIR": str(models_dir)}
    done = subprocess.run([sys.executable, "-c", OWNER_PROBE], cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
