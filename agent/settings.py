"""All configuration in one pydantic-settings object, read from `STORYLOOM_*` environment variables.

Nested groups use `__`: `STORYLOOM_LLM__BASE_URL=http://localhost:8000/v1`. Every field has a
default, so a fresh machine runs with no configuration at all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.webhooks.signing import signing_key
from agent.webhooks.target import allow_list
from tools.profiles import resolve_profile

Profile = Literal["auto", "offline", "cpu", "gpu"]


class LLMSettings(BaseModel):
    """Where the planner's language model lives. No base URL means the embedded in-process model."""

    base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. a vLLM server at http://localhost:8000/v1."
    )
    model: str | None = Field(default=None, description="Model name sent to the server (e.g. Qwen/Qwen3-8B).")
    api_key: str | None = Field(default=None, description="Bearer key for the server; vLLM accepts any by default.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for one LLM answer.")
    extra_body: dict | None = Field(
        default=None, description='Extra JSON sent with every request, e.g. {"chat_template_kwargs": '
        '{"enable_thinking": false}} to turn off Qwen3 thinking on vLLM.',
    )


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
    backend: Literal["local", "ray"] = Field(
        default="local", description="Where model calls run: `local` (this process) or `ray` (one Ray actor per "
        "model role, see STORYLOOM_RAY__*; needs the `storyloom[ray]` extra).",
    )


class RaySettings(BaseModel):
    """The Ray cluster that runs model calls when `STORYLOOM_EXECUTOR__BACKEND=ray`."""

    address: str | None = Field(
        default=None, description="Cluster to join: `auto`, `host:6379` or `ray://host:10001`; empty = start a "
        "private local Ray in this process.",
    )
    gpus: dict[str, float] = Field(
        default_factory=dict, description='GPU fraction each model role\'s actor reserves (JSON), e.g. '
        '{"text_to_image": 0.5, "tts": 0.25}; roles not named reserve none.',
    )
    max_restarts: int = Field(default=3, ge=0, le=100, description="Times Ray restarts a dead actor "
                              "(a call it was running is retried once).")
    threads: int | None = Field(default=None, ge=1, le=256, description="CPU threads of each actor's torch; "
                                "empty = this process's count, so CPU results match the local backend.")
    models_dir: Path | None = Field(default=None, description="The model cache as the Ray nodes see it; empty = "
                                    "this process's models dir.")

    @field_validator("gpus")
    @classmethod
    def _fractions(cls, gpus: dict[str, float]) -> dict[str, float]:
        bad = [f"{role}={share}" for role, share in gpus.items() if not 0 <= share <= 8]
        if bad:
            raise ValueError(f"GPU fractions must lie between 0 and 8: {', '.join(bad)}")
        return gpus


class Gate(BaseModel):
    """Pass marks for one profile. CLIP numbers differ per model (real CLIP scores a noise image about
    24), so the image gate is relative: an image must beat the same model's score for unrelated and
    shuffled prompts by `clip_margin`, and also reach `clip_floor` (both in CLIP-score points, 100 x cosine)."""

    clip_margin: float = Field(default=2.0, description="Points above the per-run shuffled-prompt baseline.")
    clip_floor: float = Field(default=20.0, description="Absolute minimum CLIP score (100 x cosine).")
    identity_margin: float = Field(default=2.0, description="Points (100 x cosine of CLIP image embeddings) by which "
                                   "a banked character's picture must be nearer its reference than unrelated ones.")
    max_wer: float = Field(
        default=0.1, ge=0, le=1, description="Narration round trip (speech -> transcript) word error rate allowed."
    )


class Gates(BaseModel):
    """One gate per profile (`STORYLOOM_CRITIC__GATES__CPU__CLIP_MARGIN=3`)."""

    offline: Gate = Field(
        default_factory=lambda: Gate(clip_margin=0.0, clip_floor=-100.0, max_wer=0.2, identity_margin=0.0),
        description="Tiny random CLIP has no notion of meaning: this gate only exercises the loop; whisper "
        "tiny.en misspells invented names, hence the looser word error rate.",
    )
    cpu: Gate = Field(default_factory=Gate, description="CLIP ViT-B/32.")
    gpu: Gate = Field(default_factory=lambda: Gate(clip_margin=3.0, clip_floor=22.0, max_wer=0.05),
                      description="CLIP ViT-L/14, whisper large-v3-turbo.")


class CriticSettings(BaseModel):
    """The consistency critic: gates per profile and how many revision rounds a failing asset gets."""

    max_rounds: int = Field(default=2, ge=0, le=5, description="Revision rounds for a failing asset (0 = score only).")
    gates: Gates = Field(default_factory=Gates, description="Pass marks per profile.")


class ServerSettings(BaseModel):
    """The HTTP API (`storyloom serve`): background workers and the limits that protect them."""

    workers: int = Field(default=1, ge=0, le=64, description="Runs executed at once by the server's workers "
                         "(`storyloom worker` and `serve`; 0 with `serve`: the API only).")
    lease_s: float = Field(default=15.0, ge=1, le=3600, description="A worker's claim on a run lasts this long "
                           "unless renewed (every third of it); a dead worker's runs move on after it (PostgreSQL).")
    claim_poll_s: float = Field(default=0.5, gt=0, le=60, description="How often an idle worker looks for "
                                "runs queued by other processes.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest JSON request body (413 beyond).")
    max_upload_bytes: int = Field(default=200_000_000, ge=1024, description="Largest upload body, on the narration "
                                  "upload route only (413).")
    max_in_flight_per_key: int = Field(
        default=20, ge=1, description="Queued plus running runs one API key may have (429 beyond)."
    )
    sse_keepalive_s: float = Field(default=15.0, gt=0, description="Seconds between SSE keep-alive comments.")
    max_streams_per_key: int = Field(default=10, ge=1, description="Open event streams one API key may hold (429).")
    max_streams: int = Field(default=200, ge=1, description="Open event streams in all (429 beyond).")
    body_idle_s: float = Field(default=30.0, gt=0, description="Longest wait for the next piece of a request body "
                               "(408 beyond).")
    max_connections: int = Field(default=500, ge=1, description="Open connections plus requests in progress; "
                                 "uvicorn answers 503 beyond.")
    keep_alive_s: int = Field(default=5, ge=1, description="Seconds an idle keep-alive connection stays open.")


class NarrationSettings(BaseModel):
    """Accessibility narration of media libraries (`storyloom narrate`, `POST /v1/narrations`)."""

    library_roots: list[Path] = Field(
        default_factory=list, description="Folders the API may read media from (JSON list); paths must resolve "
        "inside one of them. The CLI treats the paths it is given as its roots.",
    )
    max_file_mb: float = Field(default=500.0, gt=0, description="Larger media files are refused per item.")
    max_video_s: float = Field(default=10800.0, gt=0, description="Longer videos (by their header) are refused "
                               "per item: a tiny file claiming hours would otherwise make huge buffers.")
    min_gap_s: float = Field(default=2.0, gt=0, description="Shortest pause in speech usable for a description.")
    words_per_second: float = Field(default=2.5, gt=0, description="Word budget of a gap = gap seconds x this.")
    duck_lu: float = Field(default=10.0, ge=10.0, description="How far the original soundtrack is lowered under "
                           "a description (loudness units; WCAG practice asks for at least 10).")
    target_lufs: float = Field(default=-23.0, le=-5.0, description="Integrated loudness of the described mix.")
    alt_max_chars: int = Field(default=150, ge=40, le=400, description="Hard limit on alt text length.")
    max_cue_wer: float = Field(default=0.05, ge=0, le=1, description="Round-trip WER allowed per spoken cue.")


class WebhookSettings(BaseModel):
    """Signed webhooks (Standard Webhooks): where a run's summary is POSTed when it ends, and the limits."""

    secret: SecretStr | None = Field(
        default=None, description="Signing secret, `whsec_` + base64 of 24 to 64 random bytes; empty = requests "
        "with a webhook_url are refused (422).",
    )
    allow: str = Field(
        default="", description="Comma-separated hosts, addresses or networks a webhook may reach although they "
        "are not public (e.g. `127.0.0.1,10.0.0.0/8,hooks.internal`); anything else private is refused.",
    )
    timeout_s: float = Field(default=15.0, gt=0, le=120, description="Longest one delivery attempt may take.")
    max_age_s: float = Field(default=86400.0, gt=0, description="Retries stop this long after the run ended.")
    backoff_s: float = Field(default=5.0, gt=0, description="Wait before the first retry; doubles each time "
                             "(with jitter) up to backoff_max_s.")
    backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between two attempts.")
    poll_s: float = Field(default=2.0, gt=0, description="How often the sender looks for due deliveries.")

    @field_validator("secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            signing_key(value.get_secret_value())  # ValueError naming what is wrong
        return value or None

    @field_validator("allow")
    @classmethod
    def _allow_entries(cls, value: str) -> str:
        allow_list(value)  # ValueError naming a bad entry
        return value


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
    critic: CriticSettings = Field(default_factory=CriticSettings, description="STORYLOOM_CRITIC__*.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The planner LLM (STORYLOOM_LLM__*).")
    story: StorySettings = Field(default_factory=StorySettings, description="Story rendering (STORYLOOM_STORY__*).")
    server: ServerSettings = Field(default_factory=ServerSettings, description="The HTTP API (STORYLOOM_SERVER__*).")
    narration: NarrationSettings = Field(
        default_factory=NarrationSettings, description="Accessibility narration (STORYLOOM_NARRATION__*)."
    )
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings, description="Signed webhooks "
                                      "(STORYLOOM_WEBHOOKS__*).")
    ray: RaySettings = Field(default_factory=RaySettings, description="Model work on Ray (STORYLOOM_RAY__*).")

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
        return resolve_profile(self.profile)
