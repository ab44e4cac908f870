"""Errors the CLI and API report to people (one short hierarchy, mapped to exit codes and HTTP
statuses in one place). API errors are always `{"error": {"code": ..., "message": ...}}`."""
from __future__ import annotations

import logging

log = logging.getLogger("storyloom.api")


class UsageError(Exception):
    """Bad input from the user: reported in one line with exit code 2."""


class ApiError(Exception):
    """An HTTP error with a stable machine-readable code and a one-line message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def not_found(what: str) -> ApiError:
    # Another key's objects are "not found" too: their existence is not revealed.
    return ApiError(404, "not_found", f"no {what} with that id")


def install_handlers(app) -> None:
    """Map every error FastAPI can raise onto the one error shape."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def body(code: str, message: str) -> dict:
        return {"error": {"code": code, "message": message}}

    async def api_error(request, exc: ApiError):
        return JSONResponse(body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    async def validation(request, exc: RequestValidationError):
        return JSONResponse(body("invalid_request", first_validation_error(exc.errors())), status_code=422)

    async def http_error(request, exc: HTTPException):
        if isinstance(exc.__cause__, BodyTooLarge):  # FastAPI wraps errors raised while it reads the body
            return JSONResponse(body("too_large", str(exc.__cause__)), status_code=413)
        if isinstance(exc.__cause__, BodyTooSlow):
            return JSONResponse(body("timeout", str(exc.__cause__)), status_code=408, headers={"Connection": "close"})
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # A body that is not JSON (or not UTF-8) is invalid input like any other: 422, as documented.
            return JSONResponse(body("invalid_request", "the body is not valid JSON"), status_code=422)
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                 413: "too_large"}
        return JSONResponse(body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def internal(request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(body("internal", "internal error; the server log has the details"), status_code=500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal)


class BodyTooLarge(Exception):
    """A request body went over its limit while it was being received."""


class BodyTooSlow(Exception):
    """The next piece of a request body did not come in time."""


def first_validation_error(errors: list[dict]) -> str:
    """'body.deliverables.0.width: Input should be less than or equal to 1024' — one line."""
    if not errors:
        return "invalid request"
    err = errors[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    return f"{where}: {err.get('msg', 'invalid value')}"[:300]
