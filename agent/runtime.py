"""The Runtime: what one process shares across runs (settings, database, asset store, models), and the
one place that builds a run's executor and a run's LLM from them, so every caller gets the same
settings (workers, batching, the cache switch)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from agent.executor import Emit, Executor
from agent.llm import LLM, RecordedLLM, make_llm
from agent.model_backend import LocalBackend, ModelBackend
from agent.ray_backend import RayBackend
from agent.settings import Settings
from memory import AssetStore, Database, open_database
from tools.model_manager import ModelManager


@dataclass
class Runtime:
    """Opened once per process; models stay loaded in `models` for every run that follows."""

    settings: Settings
    profile: str
    db: Database
    store: AssetStore
    models: ModelManager
    _llm: LLM | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, profile: str | None = None) -> Runtime:
        """Resolve the profile, open (and if needed migrate) the database, prepare the stores."""
        resolved = settings.model_copy(update={"profile": profile}) if profile else settings
        name = resolved.resolved_profile()
        db = open_database(resolved.db_url)
        return cls(settings=resolved, profile=name, db=db, store=AssetStore(resolved.assets_path),
                   models=ModelManager(name, resolved.models_path, memory_gb=resolved.model_memory_gb,
                                       cpu_offload=resolved.cpu_offload))

    @cached_property
    def backend(self) -> ModelBackend:
        """Where model calls run (STORYLOOM_EXECUTOR__BACKEND): this process, or one Ray actor per role."""
        if self.settings.executor.backend == "ray":
            return RayBackend(self.settings, self.profile)
        return LocalBackend()

    @cached_property
    def llm(self) -> LLM:
        return self._llm or make_llm(self.settings.llm, self.models)

    def executor_for(self, run_id: str, *, emit: Emit | None = None,
                     cancelled: Callable[[], bool] | None = None) -> Executor:
        """An executor for the steps of `run_id` with this process's executor settings."""
        options = self.settings.executor
        return Executor(self.db, self.store, self.models, run_id=run_id, emit=emit or _ignore,
                        cancelled=cancelled or _never, workers=options.workers, batch=options.batch,
                        use_cache=options.cache, backend=self.backend)

    def llm_for(self, run_id: str) -> RecordedLLM:
        """The LLM for one run: its answers are recorded as the run's assets and cached."""
        return RecordedLLM(self.llm, self.db, self.store, run_id=run_id, use_cache=self.settings.executor.cache)

    @property
    def checkpoint_path(self) -> str | None:
        """The SQLite file that also holds LangGraph's checkpoints (None for other databases)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.settings.db_url)  # also sqlite+pysqlite:///... and URLs with a query string
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return url.database


def _ignore(event: dict) -> None:
    """No one listens to this run's events."""


def _never() -> bool:
    return False
