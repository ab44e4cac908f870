"""Content-addressed asset files: each file is named by the sha256 of its bytes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class AssetStore:
    """Files under `root/<sha[:2]>/<sha>`; equal bytes are stored once, writes are atomic."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file with this digest lives (whether or not it exists)."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
            raise ValueError(f"sha256 must be 64 hex characters, got {sha256!r}")
        sha = sha256.lower()
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> tuple[str, Path]:
        """Store `data`; returns its sha256 and path. Existing content is not rewritten."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._temp_file(dest.parent)
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                    _sync(f.fileno())
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
        return sha, dest

    def put_file(self, src: Path) -> tuple[str, Path]:
        """Store a copy of the file `src`, hashing while copying so big files are read once."""
        self.root.mkdir(parents=True, exist_ok=True)
        # The digest is unknown until the copy ends, so the temp file sits in the root
        # (same filesystem as the final folder, which keeps os.replace atomic).
        tmp = self._temp_file(self.root)
        try:
            digest = hashlib.sha256()
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while chunk := fin.read(_CHUNK):
                    digest.update(chunk)
                    fout.write(chunk)
                _sync(fout.fileno())
            dest = self.path(digest.hexdigest())
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return digest.hexdigest(), dest

    def exists(self, sha256: str) -> bool:
        """Whether a file with this digest is stored."""
        return self.path(sha256).is_file()

    def verify(self, sha256: str) -> bool:
        """Whether the stored file exists and its bytes still hash to its name."""
        path = self.path(sha256)
        if not path.is_file():
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256.lower()

    @staticmethod
    def _temp_file(folder: Path) -> Path:
        # A dot prefix keeps half-written files from ever looking like stored content.
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        os.close(fd)
        # mkstemp makes the file private (0600); stored assets are ordinary readable files.
        os.chmod(name, 0o644)
        return Path(name)


def _sync(fd: int) -> None:
    # The database row naming this digest may be committed right after: make the bytes durable first.
    os.fsync(fd)
