"""Test helpers: a file-backed asset resolver, so tools run for real without a database."""
from __future__ import annotations

import uuid
from pathlib import Path

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

    def context(self, models) -> ToolContext:
        return ToolContext(models=models, resolve=self.views.__getitem__)
