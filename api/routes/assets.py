"""Assets: metadata with lineage and scores, and the bytes (HTTP Range for audio and video)."""
from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ERRORS, Owner, runtime
from api.errors import ApiError
from api.schemas import AssetOut
from api.views import asset_out, owned_asset

router = APIRouter(prefix="/v1/assets", tags=["assets"], responses=ERRORS)


@router.get("/{asset_id}", response_model=AssetOut, summary="An asset's metadata, lineage and scores")
async def get_asset(request: Request, asset_id: str, owner: Owner) -> dict:
    def view() -> dict:
        with runtime(request).db.session() as s:
            return asset_out(s, owned_asset(s, asset_id, owner))

    return await run_in_threadpool(view)


@router.get("/{asset_id}/content", response_class=FileResponse, summary="The asset's bytes (Range supported)",
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."},
                       206: {"description": "The requested byte range."}})
async def get_content(request: Request, asset_id: str, owner: Owner) -> FileResponse:
    def locate():
        rt = runtime(request)
        with rt.db.session() as s:
            asset = owned_asset(s, asset_id, owner)
            return rt.store.path(asset.sha256), asset.mime, asset.role or asset.id

    path, mime, role = await run_in_threadpool(locate)
    if not path.is_file():
        raise ApiError(410, "gone", "the asset's file is missing from the store")
    extension = mimetypes.guess_extension(mime) or ""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in role)[:80] + extension
    return FileResponse(path, media_type=mime, filename=name, content_disposition_type="inline")
