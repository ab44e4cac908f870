"""The upload endpoint fuzzed with hostile files, on a server whose workers really process them: empty and
truncated files, a PNG decompression bomb (a header claiming 60000 x 60000 pixels), polyglots, an
executable or a script named .png, a WAV header claiming gigabytes, a broken MP4, and hostile file
names (path traversal, 300 characters, right-to-left override, none at all). Hypothesis mixes them.

Every answer is one the OpenAPI document allows; an accepted job ends (never an internal error), each
item that fails says why in one line, the server stays healthy, and nothing is written outside the
job's upload folder (which is removed once the job is done).
"""
from __future__ import annotations

import io
import logging
import struct
import wave
import zipfile
import zlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.media import png

PHOTO = png(photo=True)
NAMES = ["photo.png", "../../../etc/passwd", "..\\..\\boot.ini", "a" * 300 + ".png", "caf\u00e9\u202egnp.exe",
         "", ".hidden", "clip.mp4", "sound.wav", "same.png"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bomb() -> bytes:
    """60000 x 60000 RGB in its header; the pixel data is a few KB of compressed zeros (10.8 GB unpacked)."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 2_000_000, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _zip_polyglot() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.txt", "zip slip")
    return PHOTO + buffer.getvalue()


def _wav_claiming_gigabytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 1600)
    data = bytearray(buffer.getvalue())
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)  # RIFF size
    data[40:44] = struct.pack("<I", 0xFFFFFFF0)  # data size
    return bytes(data)


PAYLOADS = {
    "photo": PHOTO, "empty": b"", "truncated png": PHOTO[:80], "png bomb": _png_bomb(), "zip polyglot": _zip_polyglot(),
    "exe named png": b"MZ\x90\x00\x03" + b"\x00" * 400, "svg with script":
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "huge wav": _wav_claiming_gigabytes(),
    "broken mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\xff" * 500, "text": b"hello\n" * 10,
}
uploads = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(sorted(PAYLOADS))), min_size=1, max_size=4)


def test_hostile_uploads_end_as_item_errors_and_never_as_server_errors(api, caplog):
    caplog.set_level(logging.ERROR, logger="storyloom")
    operation = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")["/v1/narrations/upload"]["POST"]
    uploads_dir = api.rt.settings.data_dir.resolve() / "uploads"
    outside_before = _files_outside(api.rt.settings.data_dir.resolve(), uploads_dir)
    accepted: list[str] = []
    with api.client(api.key()) as client:

        @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(files=uploads)
        def check(files):
            parts = [("files", (name, PAYLOADS[kind], "application/octet-stream")) for name, kind in files]
            response = client.post("/v1/narrations/upload", files=parts)
            response.request.read()  # the multipart body streamed out; the validator reads the request too
            operation.validate_response(response)
            assert response.status_code in (202, 413, 422), response.text
            if response.status_code != 202:
                return
            job = response.json()["id"]
            accepted.append(job)
            assert api.wait(client, job, timeout=600)["status"] in ("succeeded", "failed")
            view = client.get(f"/v1/narrations/{job}").json()
            assert len(view["items"]) == len(files), view  # every uploaded file is an item
            for item in view["items"]:
                assert item["status"] in ("done", "failed", "skipped"), item
                assert item["status"] != "failed" or (item["error"] and "\n" not in item["error"]), item
                assert "internal error" not in (item["error"] or ""), item

        check()
        assert len(accepted) >= 4, "most hostile batches are accepted, so their files really are processed"
        assert client.get("/healthz").json()["status"] == "ok"
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert _files_outside(api.rt.settings.data_dir.resolve(), uploads_dir) - outside_before <= _store_files(api)
    assert not any(uploads_dir.rglob("*.*")), "upload folders are removed once their job is done"


def _files_outside(data_dir, uploads_dir) -> set:
    return {p for p in data_dir.parent.rglob("*") if p.is_file() and uploads_dir not in p.parents}


def _store_files(api) -> set:
    """What jobs legitimately write: the asset store, outputs, the database and the model cache."""
    root = api.rt.settings.data_dir.resolve()
    return {p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "uploads"}


def test_every_uploaded_file_is_accounted_for(api):
    with api.client(api.key()) as client:
        files = [("files", ("notes.txt", b"hello\n", "text/plain")), ("files", ("photo.png", PHOTO, "image/png"))]
        job = client.post("/v1/narrations/upload", files=files).json()["id"]
        api.wait(client, job)
        items = client.get(f"/v1/narrations/{job}").json()["items"]
    assert sorted(item["name"] for item in items) == ["notes.txt", "photo.png"], items


def test_a_file_name_too_long_for_the_filesystem_is_shortened(api):
    """Found by the fuzzing: a 300-character name could not be saved: a 500, or no answer at all."""
    with api.client(api.key()) as client:
        response = client.post("/v1/narrations/upload", files=[("files", ("a" * 300 + ".png", PHOTO, "image/png"))])
        assert response.status_code == 202, response.text
        assert api.wait(client, response.json()["id"])["status"] == "succeeded"
