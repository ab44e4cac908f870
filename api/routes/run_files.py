"""A finished run's delivered files: manifest.json, storybook.html, a narration's report, and every file
the manifest lists (pictures, narration, story.mp4, story.vtt, candidates). Nothing else in the
output folder is reachable, whatever the name asks for."""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ERRORS, Owner, runtime
from api.errors import ApiError
from api.views import owned_run

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS)
DOCUMENTS = ("manifest.json", "storybook.html", "report.json", "report.html")
_TYPES = {".vtt": "text/vtt", ".json": "application/json", ".html": "text/html; charset=utf-8",
          ".wav": "audio/wav", ".mp4": "video/mp4", ".png": "image/png"}
_MEDIA = {kind: {"schema": {"type": "string", "format": "binary"}}
          for kind in ("image/*", "audio/*", "video/*", "text/*", "application/*")}


@router.get("/{run_id}/files/{name:path}", response_class=FileResponse,
            responses={200: {"content": _MEDIA, "description": "The file, with its own content type."}},
            summary="A delivered file of a finished run (manifest.json, storybook.html, or a file it lists)")
async def get_file(request: Request, run_id: str, name: str, owner: Owner) -> FileResponse:
    path = await run_in_threadpool(_locate, request, run_id, name, owner)
    media_type = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    # A delivered page opened on its own runs nothing and reaches nothing: the Studio shows it with the
    # pictures it fetched itself.
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}
    return FileResponse(path, media_type=media_type, headers=headers, filename=path.name,
                        content_disposition_type="inline")


def _locate(request: Request, run_id: str, name: str, owner: str) -> Path:
    with runtime(request).db.session() as s:
        run = owned_run(s, run_id, owner)
        folder = Path(run.output_dir).resolve() if run.output_dir else None
    missing = ApiError(404, "not_found", f"the run has no delivered file {name[:100]!r}")
    if folder is None or not (folder / "manifest.json").is_file():
        raise missing
    if name not in DOCUMENTS and name not in _listed(folder / "manifest.json"):
        raise missing
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise missing
    return path


def _listed(manifest: Path) -> set[str]:
    """The `path` of every asset in a story or brief manifest (a narration manifest lists none)."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    assets = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(assets, list):
        return set()
    return {a["path"] for a in assets if isinstance(a, dict) and isinstance(a.get("path"), str)}
