"""All configuration in one pydantic-settings object, read from `STORYLOOM_*` environment variables.

Nested groups use `__`: `STORYLOOM_LLM__BASE_URL=http://localhost:8000/v1`. Every field has a
default, so a fresh machine runs with no configuration at all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["auto", "offline", "cpu", "gpu"]


class LLMSettings(BaseModel):
    """Where the planner's language model lives. No base URL means the embedded in-process model."""

    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. a vLLM server at http://localhost:8000/v1."
    )
    model: str | None = Field(default=None, description="Model name sent to the server (e.g. Qwen/Qwen3-8B).")
    api_key: str | None = Field(default=None, description="Bearer key for the server; vLLM accepts any by default.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for one LLM answer.")


class StorySettings(BaseModel):
    """How the story recipe renders; the defaults suit the offline profile on a CPU."""

    image_size: int = Field(default=256, ge=64, le=2048, description="Scene images are this many pixels a side.")
    image_steps: int | None = Field(
        default=None, ge=1, le=100, description="Denoising steps per image; empty = the profile's default."
    )
    video_size: int = Field(default=512, ge=64, le=1920, description="Story video frame size (square, even).")
    video_fps: int = Field(default=12, ge=1, le=60, description="Story video frame rate (stills need few).")
    llm_max_new_tokens: int = Field(default=220, ge=16, le=2048, description="Token budget per LLM storyboard call.")


class ExecutorSettings(BaseModel):
    """How plans run: concurrency, batching of model calls, and the tool-call cache."""

    workers: int = Field(default=2, ge=1, le=64, description="Independent steps (or batches) run at once.")
    batch: bool = Field(default=True, description="Merge steps of one tool and model into one batched call.")
    cache: bool = Field(
        default=True, description="Reuse stored results of identical calls (same tool, model, arguments, seed)."
    )


class Settings(BaseSettings):
    """Storyloom's settings. Environment variables: STORYLOOM_<FIELD>, STORYLOOM_<GROUP>__<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="STORYLOOM_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Where the database, assets and outputs live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; empty = SQLite file `storyloom.db` in the data dir."
    )
    profile: Profile = Field(
        default="auto", description="Model profile: auto (gpu if CUDA is present, else offline), offline, cpu, gpu."
    )
    models_dir: Path | None = Field(
        default=None, description="Model cache (built tiny models, converted LLM); empty = <data_dir>/models."
    )
    model_memory_gb: float | None = Field(
        default=None, gt=0, description="Budget for resident models; least recently used idle ones are evicted "
        "beyond it. Empty = no limit.",
    )
    cpu_offload: bool = Field(
        default=False, description="On a GPU, keep big diffusers pipelines in CPU memory and move each part to "
        "the GPU only while it runs (slower; fits smaller GPUs).",
    )
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings, description="STORYLOOM_EXECUTOR__*.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The planner LLM (STORYLOOM_LLM__*).")
    story: StorySettings = Field(default_factory=StorySettings, description="Story rendering (STORYLOOM_STORY__*).")

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'storyloom.db').resolve()}"

    @property
    def models_path(self) -> Path:
        return (self.models_dir or self.data_dir / "models").resolve()

    @property
    def assets_path(self) -> Path:
        return (self.data_dir / "assets").resolve()

    @property
    def outputs_path(self) -> Path:
        return (self.data_dir / "outputs").resolve()

    def resolved_profile(self) -> str:
        """The concrete profile: `auto` becomes `gpu` when CUDA is usable, else `offline`."""
        from tools.profiles import resolve_profile

        return resolve_profile(self.profile)
