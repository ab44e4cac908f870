"""The server stays responsive while a hostile file is processed (issue 19): /healthz answers in under
100 ms (99% of probes; none over 500 ms) throughout a narration of a 4 kB PNG whose compressed XMP
packet used to freeze every client (a backtracking regular expression holding the GIL for 20 s).
A plain picture is narrated first, so loading the models (seconds of import work) is not measured."""
from __future__ import annotations

import statistics
import time

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.fixtures.server import serving
from tools.narration.metadata import MAX_XMP_CHARS, XMP_KEY

UNCLOSED = "<Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li>"


def _hostile_png(path):
    info = PngInfo()
    info.add_itxt(XMP_KEY, UNCLOSED * ((MAX_XMP_CHARS - 100) // len(UNCLOSED)), zip=True)
    Image.new("RGB", (64, 48), (90, 140, 200)).save(path, pnginfo=info)
    return path


def test_healthz_stays_fast_while_a_hostile_png_is_narrated(runtime, tmp_path):
    photo = _hostile_png(tmp_path / "xmp.png").read_bytes()
    assert len(photo) < 8_000
    plain = Image.new("RGB", (64, 48), (90, 140, 200))
    plain.save(tmp_path / "plain.png")
    with serving(runtime) as api, api.client(api.key()) as client:
        plain_bytes = (tmp_path / "plain.png").read_bytes()
        warm = client.post("/v1/narrations/upload", files=[("files", ("plain.png", plain_bytes, "image/png"))])
        assert api.wait(client, warm.json()["id"])["status"] == "succeeded"
        job = client.post("/v1/narrations/upload", files=[("files", ("xmp.png", photo, "image/png"))])
        assert job.status_code == 202, job.text
        timings, status = [], "queued"
        deadline = time.monotonic() + 300
        while status not in ("succeeded", "failed") and time.monotonic() < deadline:
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            timings.append(time.perf_counter() - started)
            status = client.get(f"/v1/runs/{job.json()['id']}").json()["status"]
            time.sleep(0.02)
        assert status == "succeeded"
        items = client.get(f"/v1/narrations/{job.json()['id']}").json()["items"]
    assert [item["status"] for item in items] == ["done"]
    print(f"/healthz during the job: {len(timings)} probes, median {statistics.median(timings) * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms")
    # Under 100 ms, allowing 1% of probes a hiccup on a busy shared CPU (before the fix: one 20 s freeze).
    slow = [t for t in timings if t >= 0.1]
    assert len(slow) <= len(timings) // 100 and max(timings) < 0.5, " ".join(f"{t:.3f}" for t in timings)
