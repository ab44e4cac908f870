"""Test helpers: a file-backed asset resolver, so tools run for real without a database, and a scripted LLM."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.plan_schema import iter_ref_paths
from tools.base import AssetView, ToolContext, ToolResult


class Assets:
    """Keeps tool outputs as files and resolves their ids, like the executor does with the store."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.views: dict[str, AssetView] = {}

    def add(self, data: bytes, kind: str, mime: str, **meta) -> str:
        asset_id = uuid.uuid4().hex
        path = self.folder / asset_id
        path.write_bytes(data)
        self.views[asset_id] = AssetView(id=asset_id, path=path, kind=kind, mime=mime, **meta)
        return asset_id

    def keep(self, result: ToolResult) -> dict[str, str]:
        """Store every artifact of a result; returns output slot -> asset id."""
        return {a.name: self.add(a.data, a.kind, a.mime, intent=a.intent, duration=a.duration, width=a.width,
                                 height=a.height, params=a.params) for a in result.artifacts}

    def context(self, models=None, cancelled=lambda: False) -> ToolContext:
        return ToolContext(models=models, resolve=self.views.__getitem__, cancelled=cancelled)


class ScriptedLLM:
    """An LLM that answers from a list: a value is returned, an exception raised; every question is kept."""

    name = "scripted"

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def json(self, messages, schema, *, seed=0, max_tokens=256):
        self.asked.append({"messages": messages, "schema": schema, "seed": seed})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def iter_refs(value: Any) -> Iterator[str]:
    """Every asset `$ref` string inside a JSON-like value."""
    return (ref for _, key, ref in iter_ref_paths(value) if key == "$ref")


def schema_tools(schema: dict[str, Any]) -> set[str]:
    """The tool names a plan schema allows (the union of its steps' `tool` enums)."""
    return {name for branch in schema["properties"]["steps"]["items"]["anyOf"]
            for name in branch["properties"]["tool"]["enum"]}


def small_stories(settings: Any, *, closed_llm: bool = True, critic_rounds: int | None = 0) -> None:
    """Settings for small, fast stories in tests: 64 px pictures in 2 steps, a 64 px video at 4 fps.
    `closed_llm` points the LLM at a closed port (deterministic storyboards); `critic_rounds` caps the
    revision rounds (None keeps the default)."""
    settings.story.image_size, settings.story.image_steps = 64, 2
    settings.story.video_size, settings.story.video_fps = 64, 4
    if closed_llm:
        settings.llm.base_url, settings.llm.timeout = "http://127.0.0.1:9/v1", 2
    if critic_rounds is not None:
        settings.critic.max_rounds = critic_rounds
