"""The content-addressed asset store."""

import hashlib
from pathlib import Path

import pytest

from memory.store import AssetStore


def test_put_names_the_file_by_its_sha256(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    data = b"a lighthouse keeper and a seal"
    sha, path = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert path == tmp_path / "assets" / sha[:2] / sha
    assert path.read_bytes() == data
    assert store.exists(sha) and store.verify(sha)


def test_put_twice_stores_one_file(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    first = store.put(b"same bytes")
    second = store.put(b"same bytes")
    assert first == second
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [first[1]]


def test_put_file_equals_put(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000  # spans several copy chunks
    src = tmp_path / "clip.bin"
    src.write_bytes(data)
    store = AssetStore(tmp_path / "assets")
    assert store.put_file(src) == store.put(data)
    files = [p for p in (tmp_path / "assets").rglob("*") if p.is_file()]
    assert len(files) == 1  # no temp files left behind


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "a" * 63, "a" * 65, "../" + "a" * 61])
def test_path_rejects_a_bad_sha(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        AssetStore(tmp_path).path(bad)


def test_verify_detects_a_tampered_file(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    sha, path = store.put(b"original")
    path.write_bytes(b"tampered")
    assert store.exists(sha)
    assert not store.verify(sha)
    assert not store.verify("0" * 64)  # missing file
