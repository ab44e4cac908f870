"""What the commands share: settings and the runtime from the environment, with one-line errors."""
from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import ValidationError

from agent.runtime import Runtime
from agent.settings import Settings
from api.errors import UsageError
from memory import Database, open_database
from tools.profiles import resolve_profile


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise UsageError(f"bad STORYLOOM_* setting: {first_error(exc)}") from None


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"


def runtime(profile: str | None) -> Runtime:
    try:
        return Runtime.open(settings(), profile=profile)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def database() -> Database:
    try:
        return open_database(settings().db_url)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None


def profile_name(name: str) -> str:
    try:
        return resolve_profile(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_writable_dir(path: Path) -> None:
    """Refuse an output folder we could not write, without creating anything."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--out {path}: {probe} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write in {probe} ({exc.strerror or exc})") from None
