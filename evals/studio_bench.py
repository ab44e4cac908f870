"""Studio benchmark: `python -m evals.bench --studio [--json]`.

Measures, against a real `storyloom serve` process (offline profile, a throw-away data dir) in
Debian's headless Chromium driven by Playwright:
  (a) first_progress_ms: from the click on Send to the first progress the page shows (the run's
      first event, rendered in its card), median of 5 turns on an idle server;
  (b) page_kb: the page's own files (HTML, CSS, ES modules under api/studio/), in KB.
Targets: first progress <= 300 ms, page <= 150 KB. A benchmark, not a test: it prints figures.
"""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

STUDIO_DIR = Path(__file__).resolve().parents[1] / "api" / "studio"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGETS = {"first_progress_ms": "<= 300", "page_kb": "<= 150"}
TURNS = 5
# Installed in the page before Send: the click time, and the time the run's first event is on screen.
_PROBE = """() => {
  window.__sent = null; window.__shown = null;
  document.querySelector('.composer button[type=submit]').addEventListener('click',
    () => { window.__sent = performance.now(); }, { capture: true, once: true });
  const seen = new Set([...document.querySelectorAll('[data-event-id]')]);
  new MutationObserver((_, observer) => {
    if ([...document.querySelectorAll('[data-event-id]')].some((el) => !seen.has(el))) {
      window.__shown = performance.now(); observer.disconnect();
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""


def page_kb() -> float:
    files = [p for p in STUDIO_DIR.rglob("*") if p.is_file() and p.suffix in (".html", ".css", ".js", ".svg")]
    return round(sum(p.stat().st_size for p in files) / 1024, 1)


def _server_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "STORYLOOM_DATA_DIR": str(data_dir), "STORYLOOM_PROFILE": "offline",
            "STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "2",
            "STORYLOOM_STORY__IMAGE_SIZE": "64", "STORYLOOM_STORY__IMAGE_STEPS": "2",
            "STORYLOOM_STORY__VIDEO_SIZE": "64", "STORYLOOM_STORY__VIDEO_FPS": "4", "STORYLOOM_CRITIC__MAX_ROUNDS": "0"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())", *args]


def _start_server(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    env = _server_env(data_dir)
    created = subprocess.run(_cli("keys", "create", "bench"), env=env, capture_output=True, text=True, check=True)
    key = created.stdout.strip().splitlines()[-1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(_cli("serve", "--port", str(port)), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return server, url, key
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the Studio benchmark's server did not start within 60 s")


def _turn(page, client: httpx.Client, number: int) -> float:
    """One Send on an idle server; the run is cancelled and finished before the next."""
    page.evaluate(_PROBE)
    page.get_by_role("textbox", name="Message").fill(f"a story about kite number {number}, one scene")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("() => window.__shown !== null", timeout=30_000)
    elapsed = page.evaluate("window.__shown - window.__sent")
    run_id = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]["id"]
    client.post(f"/v1/runs/{run_id}/cancel")
    page.locator(f"article[data-run-id='{run_id}'] header .badge.cancelled, "
                 f"article[data-run-id='{run_id}'] header .badge.succeeded").wait_for(timeout=120_000)
    return elapsed


def measure() -> dict:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("the Studio benchmark needs Debian's chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="storyloom-studio-bench-") as tmp:
        server, url, key = _start_server(Path(tmp))
        try:
            with sync_playwright() as playwright, httpx.Client(base_url=url, headers={
                    "Authorization": f"Bearer {key}"}, timeout=30) as client:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.goto(url + "/")
                page.get_by_role("textbox", name="API key").fill(key)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("textbox", name="Message").wait_for()
                _turn(page, client, 0)  # warm-up: the first run loads models; not counted
                times = [_turn(page, client, n) for n in range(1, TURNS + 1)]
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    return {"first_progress_ms": round(statistics.median(times), 1),
            "first_progress_ms_all": [round(t, 1) for t in times], "page_kb": page_kb(), "turns": TURNS}
