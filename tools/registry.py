"""The tool registry: every tool by name; the built-in tools are loaded by module name.

A tool module registers its class with `@register` when it is imported. A module's name is its
tool's name, so `load_builtin_tools` imports `tools.<name>` for each name in BUILTIN_TOOLS and
nothing else needs to know where a tool lives; `tools.base`, the contract every tool imports,
imports no tool.
"""
from __future__ import annotations

import importlib

from tools.base import Tool, ToolError

BUILTIN_TOOLS = (
    "generate_image", "generate_video", "caption_image", "caption_video", "speak", "transcribe",
    "compose_story", "compose_video", "clip_score", "caption_score", "identity_consistency", "narration_wer",
    "ocr_image", "ocr_video", "classify_image", "describe_image",
)

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
    """Import each built-in tool's module so its @register runs (cheap: tools import torch lazily)."""
    for name in BUILTIN_TOOLS:
        importlib.import_module(f"tools.{name}")
