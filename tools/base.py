"""The tool contract: typed inputs and the field types tools share, media outputs as bytes.

A tool never touches the database or the asset store. It reads its inputs (including earlier assets,
through `ToolContext.asset`) and returns a `ToolResult`; the executor in `agent/` stores the bytes
content-addressed and writes the lineage. That keeps every tool runnable on its own
(`storyloom tool run`) and testable without a database. Tools are found by name in `tools.registry`.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator


class ToolError(Exception):
    """A tool could not do what was asked; the step fails with this message, the process goes on."""


def asset_ref(kind: str, description: str) -> Any:
    """A field that holds the id of an earlier asset of `kind` (an image, an audio clip...).

    The kind travels in the JSON schema (`x-asset-kind`) so a planner can check a `$ref` points at
    the right sort of output before anything runs.
    """
    return Field(pattern=r"^[0-9a-f]{32}$", description=description, json_schema_extra={"x-asset-kind": kind})


def _strip_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


# Text a tool acts on (a prompt, a script): whitespace alone is refused, the rest is stripped.
Text = Annotated[str, AfterValidator(_strip_not_blank)]


def multiple_of(step: int, why: str = "") -> AfterValidator:
    """A validator for sizes a model needs in blocks: the value must be a multiple of `step`."""
    def check(value: int) -> int:
        if value % step:
            raise ValueError(f"must be a multiple of {step}{f' ({why})' if why else ''}, got {value}")
        return value

    return AfterValidator(check)


# Seeds, one home for both bounds. Every engine takes a seed up to MAX_SEED (torch.Generator.manual_seed
# up to 2**64 - 1, hibari's numpy default_rng any size), so a tool argument may be any 32-bit seed.
MAX_SEED = 2**32 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
# A request's seed (API, CLI, recipes) has 31 bits, as the API documents. Recipes and revisions derive
# a step's seed by adding an offset (per scene, per deliverable, 7919 per revision round); the room
# between the two bounds keeps every derived seed a valid tool seed.
MAX_REQUEST_SEED = 2**31 - 1
RequestSeed = Annotated[int, Field(ge=0, le=MAX_REQUEST_SEED)]

ImageSide = Annotated[int, multiple_of(8, "the image model works in 8 px latents")]
# LTX-Video's VAE compresses 32x32 pixels into one latent.
VideoSide = Annotated[int, multiple_of(32, "the video model works in 32 px blocks")]


class ToolInput(BaseModel):
    """Base of every tool's input model: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class MediaInput(ToolInput):
    """Base of the scores that take an image or a video: exactly one of the two (and a subclass's
    `frames`, the video sampling, only with a video)."""

    image: Annotated[str | None, asset_ref("image", "The image to score (an image asset id); or give `video`.")] = None
    video: Annotated[str | None, asset_ref("video", "The video to score (a video asset id); or give `image`.")] = None

    @model_validator(mode="after")
    def _exactly_one_medium(self) -> MediaInput:
        if (self.image is None) == (self.video is None):
            given = "both were given" if self.image else "neither was given"
            raise ValueError(f"give exactly one of `image` or `video` ({given})")
        if self.image is not None and "frames" in self.model_fields_set:
            raise ValueError("`frames` applies to a `video` only; an image is scored as it is")
        return self


@dataclass
class Artifact:
    """One media output of a tool, still in memory; `name` is the output slot (e.g. "image")."""

    name: str
    kind: str  # image | audio | video | subtitles | document
    mime: str
    data: bytes
    intent: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolResult:
    """What a tool produced: media artifacts plus JSON-able values (scores, measured timings)."""

    artifacts: list[Artifact] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    model_id: str | None = None
    model_revision: str | None = None


@dataclass(frozen=True)
class AssetView:
    """What a tool may know about an input asset: where its bytes are and what they are."""

    id: str
    path: Path
    kind: str
    mime: str
    intent: str = ""
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


class Models(Protocol):
    """What a tool asks of the model manager (`tools.model_manager.ModelManager`, which imports this module)."""

    def use(self, role: str) -> AbstractContextManager[Any]:
        """The role's loaded model, held for the block."""

    def spec(self, role: str) -> Any:
        """The role's `tools.profiles.ModelSpec`."""


@dataclass
class ToolContext:
    """What the executor hands a tool: the models, a way to open earlier assets, a cancel check."""

    models: Models
    resolve: Callable[[str], AssetView]
    cancelled: Callable[[], bool] = lambda: False

    def asset(self, asset_id: str, kind: str | None = None) -> AssetView:
        """The input asset `asset_id`, checked to exist and (if given) to be of `kind`."""
        try:
            view = self.resolve(asset_id)
        except KeyError:
            raise ToolError(f"asset {asset_id} does not exist") from None
        if kind and view.kind != kind:
            raise ToolError(f"asset {asset_id} is {view.kind}, expected {kind}")
        if not view.path.is_file():
            raise ToolError(f"asset {asset_id} has no content on disk ({view.path})")
        return view


class Tool:
    """Base class: subclasses set `name`, `input_model`, `outputs` (and `values`), a docstring, and `run()`.

    Constructing a tool is free; models load on first use through `ctx.models`.
    """

    name: ClassVar[str]
    input_model: ClassVar[type[ToolInput]]
    outputs: ClassVar[dict[str, str]] = {}  # output slot -> asset kind
    # The text values (keys of ToolResult.values) a later step may take as an argument through
    # {"$value": "<step>.<name>"}: a caption, a description, a transcript.
    values: ClassVar[frozenset[str]] = frozenset()
    model_role: ClassVar[str | None] = None  # the profile role whose model this tool runs

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip()

    def parse(self, raw: dict[str, Any]) -> ToolInput:
        """Validate raw arguments; a ToolError names every bad argument in one line."""
        if not isinstance(raw, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(raw).__name__}")
        try:
            return self.input_model.model_validate(raw)
        except ValidationError as exc:
            raise ToolError(f"{self.name}: {format_validation_error(exc)}") from None

    def run(self, args: Any, ctx: ToolContext) -> ToolResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch_key(self, args: Any) -> Any:
        """Calls with equal, non-None keys may be merged into one `run_batch` call (None: never)."""
        return None

    def run_batch(self, args_list: list[Any], ctx: ToolContext) -> list[ToolResult]:
        """Several calls at once; tools whose model batches override this. Same results as one by one."""
        return [self.run(args, ctx) for args in args_list]


def one_line(value: object, limit: int = 300) -> str:
    """An error (or any text) as one line for people: its first non-empty line with white space folded,
    at most `limit` characters; an exception without a message gives its type's name."""
    lines = [" ".join(line.split()) for line in str(value).splitlines() if line.strip()]
    if not lines:
        return type(value).__name__ if isinstance(value, BaseException) else ""
    return lines[0][:limit]


def format_validation_error(exc: ValidationError) -> str:
    """One line: 'argument `scenes.0.text`: String should have at least 1 character; ...'."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"argument `{loc}`: {err['msg']}")
    return "; ".join(parts)
