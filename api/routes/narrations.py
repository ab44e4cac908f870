"""Accessibility narration jobs: library files (inside the configured roots) or uploaded files,
described for blind and low-vision people; per-item status while the job runs."""
from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from agent.narrate.job import load_manifest
from agent.narrate.library import inside
from agent.narrate.run import NarrationJob, output_assets
from agent.service.runs import create_narration_run
from agent.service.summary import run_header
from api.deps import ERRORS, Owner, check_in_flight, checked_webhook, runtime, start_run
from api.errors import ApiError
from api.schemas import WEBHOOK_URL_HELP, ErrorBody, WebhookUrl
from api.views import owned_run
from memory import repo

router = APIRouter(prefix="/v1/narrations", tags=["narrations"], responses=ERRORS)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_UPLOADS = 200
# Multipart parsing bounds (issue 19): files past MAX_UPLOADS, any text field past a few, or one over
# 16 kB are 400 while the form streams in, before anything more is spooled.
FORM_LIMITS = {"max_files": MAX_UPLOADS, "max_fields": 4, "max_part_size": 16_384}


class NarrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=200,
                             description="Files or folders inside the library roots"
                             " (STORYLOOM_NARRATION__LIBRARY_ROOTS); relative paths start at the first root.")
    webhook_url: WebhookUrl = None


class NarrationItem(BaseModel):
    name: str
    kind: str
    status: str = Field(description="done | failed | skipped")
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    wcag: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict, description="Output name -> asset id.")


class NarrationOut(BaseModel):
    id: str
    status: str
    error: str | None = None
    created_at: str | None = None
    finished_at: str | None = None
    items: list[NarrationItem] = Field(default_factory=list)
    totals: dict[str, Any] = Field(default_factory=dict)


@router.post("", response_model=NarrationOut, status_code=202, responses={429: {"model": ErrorBody}},
             summary="Describe library files: alt text, audio description, transcripts, a report")
async def narrate_library(request: Request, body: NarrationRequest, owner: Owner) -> dict:
    roots = runtime(request).settings.narration.library_roots
    if not roots:
        raise ApiError(422, "invalid_request", "no library roots are configured "
                       "(STORYLOOM_NARRATION__LIBRARY_ROOTS); upload files to /v1/narrations/upload instead")
    webhook_url = await checked_webhook(request, body.webhook_url)
    paths = await run_in_threadpool(_library_paths, body.paths, roots, runtime(request).settings.data_dir)
    return await _start(request, owner, paths, list(roots), webhook_url=webhook_url)


def _library_paths(raw: list[str], roots: list[Path], data_dir: Path) -> list[Path]:
    """Each path resolved inside a root and outside the data folder (even were a root to hold it).
    Missing and outside get the same answer, so the endpoint tells nobody which files exist elsewhere."""
    resolved_roots, data = [Path(r).resolve() for r in roots], Path(data_dir).resolve()
    found = []
    for text in raw:
        try:
            path = (Path(text) if Path(text).is_absolute() else resolved_roots[0] / text).resolve()
            usable = any(inside(path, root) for root in resolved_roots) and path.exists()
            usable = usable and not inside(path, data) and not inside(data, path)
        except (OSError, RuntimeError, ValueError):  # too long, a symlink loop, a NUL byte
            usable = False
        if not usable:
            raise ApiError(422, "invalid_request", f"{text[:200]}: no such file or folder inside the library roots")
        found.append(path)
    return found


@router.post("/upload", response_model=NarrationOut, status_code=202,
             responses={400: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody},
                        429: {"model": ErrorBody}}, form_limits=FORM_LIMITS,
             summary=f"Describe uploaded media files (multipart form field `files`, at most {MAX_UPLOADS})")
async def narrate_uploads(request: Request, owner: Owner, files: Annotated[list[UploadFile], File()],
                          webhook_url: Annotated[str | None, Form(max_length=2048, description=WEBHOOK_URL_HELP)]
                          = None) -> dict:
    await check_in_flight(request, owner)  # before storing anything
    webhook_url = await checked_webhook(request, webhook_url)
    folder = runtime(request).settings.data_dir.resolve() / "uploads" / uuid.uuid4().hex
    try:
        await run_in_threadpool(_save_uploads, files, folder)
        return await _start(request, owner, [folder], [folder], uploaded=True, webhook_url=webhook_url)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _save_uploads(files: list[UploadFile], folder: Path) -> None:
    """Each file under its own (made safe) name, so NAME.context.json sidecars still pair with NAME;
    a name seen before goes into a numbered sub-folder instead of overwriting."""
    folder.mkdir(parents=True)
    seen: set[str] = set()
    for position, upload in enumerate(files):
        name = _short(_SAFE_NAME.sub("-", Path(upload.filename or "").name).strip(".-")) or f"file-{position}"
        target = folder / (name if name not in seen else f"{position:03d}/{name}")
        seen.add(name)
        target.parent.mkdir(exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)


def _short(name: str) -> str:
    """At most 150 characters, extension kept: a longer name failed to save (filesystems stop at 255
    bytes): a 500, or a dropped connection (found by the hostile-upload fuzzing)."""
    if len(name) <= 150:
        return name
    suffix = Path(name).suffix[:16]
    return name[:150 - len(suffix)] + suffix


async def _start(request: Request, owner: str, paths: list[Path], roots: list[Path], uploaded: bool = False,
                 webhook_url: str | None = None) -> dict:
    rt = runtime(request)

    def create() -> str:
        job = NarrationJob(paths=paths, roots=roots, uploaded=uploaded)
        return create_narration_run(rt, job, api_key_id=owner, webhook_url=webhook_url)

    run_id = await start_run(request, owner, create)
    return await run_in_threadpool(_view, rt, run_id)


@router.get("/{narration_id}", response_model=NarrationOut, summary="A narration job with per-item status")
async def get_narration(request: Request, narration_id: str, owner: Owner) -> dict:
    rt = runtime(request)

    def check() -> None:
        with rt.db.session() as s:
            if owned_run(s, narration_id, owner).kind != "narration":
                raise ApiError(404, "not_found", "no narration with that id")

    await run_in_threadpool(check)
    return await run_in_threadpool(_view, rt, narration_id)


def _view(rt, run_id: str) -> dict:
    """The job and its items: from report.json once it has finished, from its manifest while it runs."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        header, out_dir = run_header(run), Path(run.output_dir)
    report = _read(out_dir / "report.json")
    entries = report.get("items", []) if report else list(load_manifest(out_dir).values())
    assets = output_assets(rt, run_id) if report else {}
    items = [_item(entry, assets.get(n, {})) for n, entry in enumerate(entries)]
    return {**{k: header[k] for k in ("id", "status", "error", "created_at", "finished_at")}, "items": items,
            "totals": (report or {}).get("totals", {})}


def _item(entry: dict, outputs: dict[str, str]) -> dict:
    return {"name": entry.get("name") or entry.get("path", ""), "kind": entry.get("kind", "unknown"),
            "status": entry.get("status", "done"), "error": entry.get("error"), "warnings": entry.get("warnings", []),
            "wcag": entry.get("wcag", []), "data": entry.get("data") or {}, "outputs": outputs}


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
