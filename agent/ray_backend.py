"""Model work on Ray (`STORYLOOM_EXECUTOR__BACKEND=ray`): one actor per model role keeps its model
loaded; the executor's batched calls go to the role's actor and their outputs come back as bytes,
which the executor stores as it stores a local call's. The database and the asset store stay here.

Input assets travel by value (the bytes of every asset id in a call's arguments), so an actor on
another machine needs no shared disk; the models do: each node reads `STORYLOOM_RAY__MODELS_DIR`.
A dead actor is restarted by Ray (`max_restarts`) and the call it was running is retried once
(`max_task_retries=1`); a second death fails the step with one line. Tools without a model role
(composing a video from stored clips) run here. Ray is imported only when this backend is chosen.
"""
from __future__ import annotations

import os
import queue
import threading
from typing import Any

from agent.json_tree import leaves
from agent.model_backend import LocalBackend
from agent.ray_worker import CRASH_FILE_VARIABLE, InputAsset, RoleWorker, WorkerOptions
from agent.settings import Settings
from memory.tables import is_id
from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, one_line

POLL_S = 0.25  # how often a waiting call looks at the run's cancel flag
_INIT = {"include_dashboard": False, "log_to_driver": False, "namespace": "storyloom"}
_connecting = threading.Lock()


class RayUnavailable(ToolError):
    """Ray is not installed, or the cluster cannot be reached."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable("the ray backend needs Ray: pip install 'storyloom[ray]'") from None
    return ray


def connect(address: str | None) -> None:
    """Join the cluster at `address`, or start a private local Ray when there is none (once per process)."""
    ray = import_ray()
    with _connecting:
        if ray.is_initialized():
            return
        try:
            if address:
                ray.init(address=address, **_INIT)
            else:
                _start_local(ray)
        except Exception as exc:  # a wrong address, a cluster of another Ray version: one clear line
            raise RayUnavailable(f"cannot reach the Ray cluster at {address or 'local'}: {one_line(exc)}") from None


def _start_local(ray: Any) -> None:
    """Start a local Ray from a thread that lives as long as the process. Ray's own processes get a
    parent-death signal (Linux), which fires when the *thread* that started them ends, and model calls
    come from the executor's short-lived step threads: started there, Ray would be SIGKILLed at the
    end of the first wave."""
    started: queue.Queue[BaseException | None] = queue.Queue()

    def own() -> None:
        try:
            ray.init(address="local", **_INIT)
        except BaseException as exc:  # handed to the caller, raised there
            started.put(exc)
            return
        started.put(None)
        threading.Event().wait()  # parked for the life of the process

    threading.Thread(target=own, name="ray-owner", daemon=True).start()
    failure = started.get()
    if failure is not None:
        raise failure


class RayBackend:
    """Sends each model role's calls to that role's actor, made on first use; thread-safe."""

    def __init__(self, settings: Settings, profile: str):
        self.settings, self.options = settings.ray, _options(settings, profile)
        self._actors: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._local = LocalBackend()

    def run(self, tool: Tool, args_list: list[ToolInput], ctx: ToolContext) -> list[ToolResult]:
        if tool.model_role is None:
            return self._local.run(tool, args_list, ctx)
        if ctx.cancelled():
            raise ToolError("cancelled")
        inputs = shipped_inputs([args.model_dump(mode="json") for args in args_list], ctx)
        ref = self.actor(tool.model_role).run.remote(tool.name, args_list, inputs)
        status, value = self._wait(ref, tool.model_role, ctx)
        if status == "error":
            raise ToolError(value)
        return value

    def actor(self, role: str) -> Any:
        """The role's actor, created (and its cluster joined) on first use."""
        with self._lock:
            if role not in self._actors:
                connect(self.settings.address)
                ray = import_ray()
                worker = ray.remote(RoleWorker).options(
                    num_cpus=0, num_gpus=self.settings.gpus.get(role, 0), max_restarts=self.settings.max_restarts,
                    max_task_retries=1)
                self._actors[role] = worker.remote(role, self.options)
            return self._actors[role]

    def prepare(self, roles: list[str]) -> list[Any]:
        """Start these roles' actors and have each load its model, all at once; returns the pending loads
        (`ray.get` them to wait). A warm-up: the first calls then find their models loaded."""
        return [self.actor(role).load.remote() for role in roles]

    def roles(self) -> list[str]:
        """The roles whose actor this backend has started."""
        with self._lock:
            return sorted(self._actors)

    def close(self) -> None:
        """End this backend's actors (their models are unloaded with them)."""
        with self._lock:
            actors, self._actors = list(self._actors.values()), {}
        if actors:
            ray = import_ray()
            for actor in actors:
                ray.kill(actor)

    def _wait(self, ref: Any, role: str, ctx: ToolContext) -> tuple[str, Any]:
        ray = import_ray()
        while not ray.wait([ref], timeout=POLL_S)[0]:
            if ctx.cancelled():
                ray.cancel(ref)
                raise ToolError("cancelled")
        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            raise ToolError(f"the {role} model's Ray actor died and the call could not be retried: "
                            f"{one_line(exc, 200)}") from None


def _options(settings: Settings, profile: str) -> WorkerOptions:
    """Ray starts its workers with one thread; by default an actor takes this process's count, since the
    order of a model's sums (and so its exact output) changes with it."""
    import torch

    models_dir = settings.ray.models_dir.resolve() if settings.ray.models_dir else settings.models_path
    threads = settings.ray.threads or torch.get_num_threads()
    return WorkerOptions(profile=profile, models_dir=str(models_dir), threads=threads,
                         memory_gb=settings.model_memory_gb, cpu_offload=settings.cpu_offload,
                         crash_file=os.environ.get(CRASH_FILE_VARIABLE))


def shipped_inputs(payload: list[dict[str, Any]], ctx: ToolContext) -> dict[str, InputAsset]:
    """The bytes of every asset these arguments name (strings shaped like an id that name no asset of
    this run stay behind; the actor then says "does not exist", as a local call would)."""
    found: dict[str, InputAsset] = {}
    for leaf in leaves(payload):
        if is_id(leaf) and leaf not in found:
            try:
                view = ctx.resolve(leaf)
            except KeyError:
                continue
            if view.path.is_file():
                found[leaf] = InputAsset.of(view)
    return found
