"""The tool contract: typed inputs, media outputs as bytes, one registry.

A tool never touches the database or the asset store. It reads its inputs (including earlier assets,
through `ToolContext.asset`) and returns a `ToolResult`; the executor in `agent/` stores the bytes
content-addressed and writes the lineage. That keeps every tool runnable on its own
(`storyloom tool run`) and testable without a database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from tools.models import ModelManager


class ToolError(Exception):
    """A tool could not do what was asked; the step fails with this message, the process goes on."""


def asset_ref(kind: str, description: str) -> Any:
    """A field that holds the id of an earlier asset of `kind` (an image, an audio clip...).

    The kind travels in the JSON schema (`x-asset-kind`) so a planner can check a `$ref` points at
    the right sort of output before anything runs.
    """
    return Field(pattern=r"^[0-9a-f]{32}$", description=description, json_schema_extra={"x-asset-kind": kind})


AssetId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


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


ImageSide = Annotated[int, multiple_of(8, "the image model works in 8 px latents")]
# LTX-Video's VAE compresses 32x32 pixels into one latent.
VideoSide = Annotated[int, multiple_of(32, "the video model works in 32 px blocks")]


class ToolInput(BaseModel):
    """Base of every tool's input model: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


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


@dataclass
class ToolContext:
    """What the executor hands a tool: the models, a way to open earlier assets, a cancel check."""

    models: ModelManager
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
    """Base class: subclasses set `name`, `input_model`, `outputs`, a docstring, and `run()`.

    Constructing a tool is free; models load on first use through `ctx.models`.
    """

    name: ClassVar[str]
    input_model: ClassVar[type[ToolInput]]
    outputs: ClassVar[dict[str, str]] = {}  # output slot -> asset kind
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


def format_validation_error(exc: ValidationError) -> str:
    """One line: 'argument `scenes.0.text`: String should have at least 1 character; ...'."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"argument `{loc}`: {err['msg']}")
    return "; ".join(parts)


_REGISTRY: dict[str, type[Tool]] = {}


def register(cls: type[Tool]) -> type[Tool]:
    """Class decorator: make a tool findable by name."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two tools are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def get_tool(name: str) -> Tool:
    """A fresh instance of the tool called `name` (ToolError when there is none)."""
    load_builtin_tools()
    if name not in _REGISTRY:
        raise ToolError(f"unknown tool {name!r}; known tools: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]()


def all_tools() -> dict[str, type[Tool]]:
    load_builtin_tools()
    return dict(sorted(_REGISTRY.items()))


def load_builtin_tools() -> None:
    """Import the tool modules so their @register runs (cheap: they import torch lazily)."""
    from tools import (  # noqa: F401
        caption,
        classify_image,
        compose,
        consistency,
        describe_image,
        image,
        montage,
        ocr_image,
        ocr_video,
        scoring,
        speech,
        video,
    )
