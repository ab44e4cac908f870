"""Assets: metadata with lineage and scores, and the bytes (HTTP Range for audio and video)."""
from __future__ import annotations

import mimetypes
import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ERRORS, Owner, runtime
from api.errors import ApiError
from api.schemas import AssetOut, ErrorBody
from api.views import asset_out, owned_asset

router = APIRouter(prefix="/v1/assets", tags=["assets"], responses=ERRORS)
# Assets are pictures, sound, video, subtitles and documents: each is served as what it is.
_MEDIA = {kind: {"schema": {"type": "string", "format": "binary"}}
          for kind in ("image/*", "audio/*", "video/*", "text/*", "application/*")}


@router.get("/{asset_id}", response_model=AssetOut, summary="An asset's metadata, lineage and scores")
async def get_asset(request: Request, asset_id: str, owner: Owner) -> dict:
    def view() -> dict:
        with runtime(request).db.session() as s:
            return asset_out(s, owned_asset(s, asset_id, owner))

    return await run_in_threadpool(view)


@router.get("/{asset_id}/content", response_class=FileResponse, summary="The asset's bytes (Range supported)",
            responses={200: {"content": _MEDIA, "description": "The file, with its own content type."},
                       206: {"content": _MEDIA, "description": "The requested byte range."}, 400: {"model": ErrorBody},
                       416: {"model": ErrorBody}})
async def get_content(request: Request, asset_id: str, owner: Owner) -> FileResponse:
    def locate():
        rt = runtime(request)
        with rt.db.session() as s:
            asset = owned_asset(s, asset_id, owner)
            return rt.store.path(asset.sha256), asset.mime, asset.role or asset.id

    path, mime, role = await run_in_threadpool(locate)
    if not path.is_file():
        raise ApiError(410, "gone", "the asset's file is missing from the store")
    check_range(request.headers.get("range"), path.stat().st_size)
    extension = mimetypes.guess_extension(mime) or ""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in role)[:80] + extension
    return FileResponse(path, media_type=mime, filename=name, content_disposition_type="inline")


# Positions of at most 18 digits (Python refuses to parse past 4,300: a 5,000-digit one was a 500), at
# most MAX_RANGES ranges.
_SPEC = re.compile(r"^\s*(\d{0,18})-(\d{0,18})\s*$")
MAX_RANGES = 16


def check_range(header: str | None, size: int) -> None:
    """Refuse a malformed (400) or unsatisfiable (416) Range in the API's error shape; valid ones are
    served by FileResponse."""
    if not header:
        return
    unit, _, specs = header.partition("=")
    parsed = [_SPEC.match(spec) for spec in specs.split(",", MAX_RANGES)]
    malformed = len(parsed) > MAX_RANGES or not all(parsed) or any(m.groups() == ("", "") for m in parsed)
    if unit.strip().lower() != "bytes" or malformed:
        raise ApiError(400, "invalid_range", f"malformed Range header {header[:80]!r}; use e.g. bytes=0-1023")
    for match in parsed:
        start, end = match.groups()
        if (start and int(start) >= size) or (start and end and int(end) < int(start)) or (not start and end == "0"):
            raise ApiError(416, "range_not_satisfiable", f"the range {match.group(0).strip()} is outside the "
                           f"{size} bytes of the file", {"Content-Range": f"bytes */{size}"})
