"""What every narration item pipeline (image, video, audio) takes and returns."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.runtime import Runtime

Progress = Callable[[str], None]


@dataclass
class NarrationContext:
    """Shared by the items of one narration job."""

    rt: Runtime
    run_id: str  # the job's run: model calls are its steps, outputs its assets
    out_dir: Path
    cancelled: Callable[[], bool] = lambda: False
    progress: Progress = lambda _: None


@dataclass
class ItemResult:
    """One media file's outcome; `outputs` maps an output name to a path relative to the job's out dir."""

    path: str
    sha256: str
    kind: str  # image | video | audio
    status: str = "done"  # done | failed | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    wcag: list[str] = field(default_factory=list)  # success criteria served, e.g. "1.1.1"
    scores: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, Any] = field(default_factory=dict)  # used / missed speech gaps (video)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # alt, long_description, decorative, cues, ...
