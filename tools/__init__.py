"""Tools: one module per tool, named after it (`tools/speak.py` is `speak`), the Tool contract (`base`),
the registry (`registry`), model profiles (`profiles`) and the model manager (`model_manager`); the
models in `engines/`, shared media helpers in `media/`, narration's media code in `narration/`.

Importing this package is cheap: torch, diffusers and transformers load inside the functions that
load models.
"""
from tools.base import Artifact, AssetView, Tool, ToolContext, ToolError, ToolResult
from tools.registry import all_tools, get_tool, register

__all__ = [
    "Artifact", "AssetView", "Tool", "ToolContext", "ToolError", "ToolResult", "all_tools", "get_tool", "register",
]
