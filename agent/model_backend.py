"""Where a tool's model calls run. The executor hands every batched call to a backend: `LocalBackend`
(this process, the default) or `agent.ray_backend.RayBackend` (one Ray actor per model role). Kept
apart from the executor so a Ray actor imports the local backend without the database layer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tools.base import Tool, ToolContext, ToolInput, ToolResult


class ModelBackend(Protocol):
    """Where a tool's model calls run: this process (`LocalBackend`) or Ray actors (agent/ray_backend.py)."""

    def run(self, tool: Tool, args_list: list[ToolInput], ctx: ToolContext) -> list[ToolResult]:
        """One result per argument set, in order; a ToolError fails them all."""


@dataclass(frozen=True)
class LocalBackend:
    """Model calls in this process, on the context's model manager (the default)."""

    def run(self, tool: Tool, args_list: list[ToolInput], ctx: ToolContext) -> list[ToolResult]:
        """A batched call when there are several argument sets, else a single one."""
        return tool.run_batch(args_list, ctx) if len(args_list) > 1 else [tool.run(args_list[0], ctx)]
