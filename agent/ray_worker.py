"""What runs inside a Ray actor: one model role's models, kept loaded, answering batched tool calls.

Plain Python with no Ray import: agent/ray_backend.py wraps `RoleWorker` with `ray.remote`. A call
arrives as a tool name, the arguments as JSON and the bytes of every input asset they name; it goes
back as ToolResults whose artifacts hold bytes. The actor never sees the database or the asset store:
the coordinator stores what comes back, exactly as it stores a local call's results.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.model_backend import LocalBackend
from tools.base import AssetView, ToolContext, ToolError, ToolInput, ToolResult
from tools.model_manager import ModelManager
from tools.registry import get_tool

# Test hook: while the file this variable names exists, the next call removes it and the actor process
# dies at once (os._exit), mid-call, the way a crashed CUDA driver or an OOM kill ends it.
CRASH_FILE_VARIABLE = "STORYLOOM_TEST_RAY_CRASH_FILE"


@dataclass(frozen=True)
class InputAsset:
    """An earlier asset a call reads, shipped by value: what a tool may know about it, and its bytes."""

    data: bytes
    kind: str
    mime: str
    intent: str = ""
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, view: AssetView) -> InputAsset:
        return cls(data=view.path.read_bytes(), kind=view.kind, mime=view.mime, intent=view.intent,
                   duration=view.duration, width=view.width, height=view.height, params=dict(view.params))


@dataclass(frozen=True)
class WorkerOptions:
    """How an actor builds its model manager; the same on every restart."""

    profile: str
    models_dir: str
    threads: int | None = None
    memory_gb: float | None = None
    cpu_offload: bool = False
    crash_file: str | None = None


class RoleWorker:
    """Keeps one role's models loaded (and those its tools borrow) and runs the calls sent to it."""

    def __init__(self, role: str, options: WorkerOptions):
        if options.threads:
            import torch

            torch.set_num_threads(options.threads)  # Ray pins OMP_NUM_THREADS=1 in its workers
        self.role, self.options = role, options
        self.models = ModelManager(options.profile, Path(options.models_dir), memory_gb=options.memory_gb,
                                   cpu_offload=options.cpu_offload)
        self.inputs = Path(tempfile.mkdtemp(prefix=f"storyloom-{role}-"))

    def load(self) -> list[str]:
        """Load the role's model now (a warm-up); returns the loaded roles."""
        self.models.get(self.role)
        return self.models.loaded()

    def ping(self) -> dict[str, Any]:
        """Who answers: the process id (it changes when Ray restarts the actor) and the loaded models."""
        return {"pid": os.getpid(), "loaded": self.models.loaded(), "loads": dict(self.models.loads)}

    def run(self, tool_name: str, args_list: list[ToolInput],
            inputs: dict[str, InputAsset]) -> tuple[str, list[ToolResult] | str]:
        """("ok", one result per argument set) or ("error", the ToolError's message)."""
        self._crash_if_asked()
        views = {asset_id: self._view(asset_id, item) for asset_id, item in inputs.items()}
        ctx = ToolContext(models=self.models, resolve=views.__getitem__)  # an unknown id: KeyError, as locally
        try:
            return "ok", LocalBackend().run(get_tool(tool_name), args_list, ctx)
        except ToolError as exc:
            return "error", str(exc)
        finally:
            self._clear_inputs()

    def _view(self, asset_id: str, item: InputAsset) -> AssetView:
        path = self.inputs / hashlib.sha256(item.data).hexdigest()
        path.write_bytes(item.data)
        return AssetView(id=asset_id, path=path, kind=item.kind, mime=item.mime, intent=item.intent,
                         duration=item.duration, width=item.width, height=item.height, params=item.params)

    def _clear_inputs(self) -> None:
        shutil.rmtree(self.inputs, ignore_errors=True)
        self.inputs.mkdir(parents=True, exist_ok=True)

    def _crash_if_asked(self) -> None:
        marker = self.options.crash_file
        if marker and os.path.exists(marker):
            os.remove(marker)
            os._exit(1)
