"""The Studio web page at `/`: plain HTML, CSS and ES modules from `api/studio/`, no build step.

The page is public (it holds no data); everything it shows comes from the same keyed REST and SSE
endpoints any client uses. Only the files shipped in `api/studio/` are served, by exact name. The
content security policy allows nothing from another host, and media only from this origin or from
blob URLs the page made itself (pictures are fetched with the key, never with the key in a URL)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import not_found
from api.routes import run_files, run_retry, session_edit, storyboard

router = APIRouter()
STUDIO_DIR = Path(__file__).resolve().parent.parent / "studio"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' blob:; img-src 'self' blob: data:; "
       "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-cache"}


def page_files() -> dict[str, Path]:
    """Name (relative to api/studio, with /) -> file, for every file the page is made of."""
    return {p.relative_to(STUDIO_DIR).as_posix(): p for p in sorted(STUDIO_DIR.rglob("*"))
            if p.is_file() and p.suffix in TYPES}


_FILES = page_files()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return _serve("index.html")


@router.get("/studio/{name:path}", include_in_schema=False)
async def studio_file(name: str) -> FileResponse:
    return _serve(name)


def _serve(name: str) -> FileResponse:
    path = _FILES.get(name)
    if path is None:
        raise not_found("page file")
    return FileResponse(path, media_type=TYPES[path.suffix], headers=HEADERS)


# What the page needed that the API did not have yet; each is a resource module of its own, and the
# OpenAPI document lists them like every other endpoint.
for _module in (session_edit, run_retry, run_files, storyboard):
    router.include_router(_module.router)
