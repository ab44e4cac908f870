"""Tools: one module per tool family, the Tool contract and registry, model profiles and the model manager.

Importing this package is cheap: torch, diffusers and transformers load inside the functions that
load models.
"""
from tools.base import (
    Artifact,
    AssetView,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    all_tools,
    get_tool,
    register,
)

__all__ = [
    "Artifact", "AssetView", "Tool", "ToolContext", "ToolError", "ToolResult", "all_tools", "get_tool", "register",
]
