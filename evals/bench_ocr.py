"""Reading benchmark: `python -m evals.bench_ocr [--json] [--images N] [--repeats R]`.

Measures, in one process on the offline profile's real reading models (PP-OCRv6 via rapidocr, and
EfficientNet-Lite0):
  (a) ocr_1080p_s: OCR of one 1920 x 1080 frame holding five lines of text (median of R), with its CPU
      seconds and whether every line was read exactly; ocr_1080p_blank_s: the same frame without text;
  (b) classify_s: one photo through the classifier, alone and per image in a batch of 16;
  (c) describe_per_min: `describe_image` (classifier + OCR + the sentence) over N library-like images,
      one call per image as narration makes them, images per minute; then in batches of 16, then one
      by one again (the later passes meet picture shapes onnxruntime has seen: the first is the honest one).
Goals: ocr_1080p_s <= 1, describe_per_min >= 25 (2 CPU cores). A benchmark, not a test: it prints
figures, with the load average, because on a shared machine they move with the neighbours.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from evals import proof_report
from tools.base import AssetView, ToolContext
from tools.describe_image import DescribeImage
from tools.media.image import encode_png
from tools.media.text_layout import layout_values
from tools.model_manager import ModelManager

GOALS = {"ocr_1080p_s": "<= 1", "describe_per_min": ">= 25"}
FRAME_LINES = ["Storyloom Harbour Festival", "Saturday 14 June", "Lighthouse tours every hour",
               "Tickets at the kiosk", "Seal Bay Ferry 18:30"]


def frame_1080p(lines: list[str], seed: int = 0) -> Any:
    """A 1920 x 1080 noisy gradient with `lines` drawn in sizes from 72 to 32 px."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    y, x = np.linspace(0, 1, 1080)[:, None, None], np.linspace(0, 1, 1920)[None, :, None]
    base = 40 + 90 * y * np.array([0.3, 0.5, 1]) + 60 * x * np.array([1, 0.4, 0.2]) + rng.normal(0, 10, (1080, 1920, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((120, 120 + i * 180), line, font=_font(72 - i * 10), fill=(255, 250, 230))
    return image


def _font(size: int) -> Any:
    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"), size)


def library(count: int) -> list[Any]:
    """`count` library-like pictures: scikit-image's real photos (when installed) at their own sizes,
    half of them with a caption drawn on, alternating with 1600 x 1200 posters of text."""
    import importlib.util

    from PIL import Image, ImageDraw

    spec = importlib.util.find_spec("skimage")
    folder = Path(spec.origin).parent / "data" if spec else None
    names = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png", "camera.png"]
    photos = [Image.open(folder / n).convert("RGB") for n in names] if folder else []
    pictures = []
    for i in range(count):
        if photos and i % 2 == 0:
            picture = photos[(i // 2) % len(photos)].copy()
            if i % 4 == 0:
                ImageDraw.Draw(picture).text((20, 20), f"Photo {i} of the harbour", font=_font(28),
                                             fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
        else:
            picture = frame_1080p(FRAME_LINES[: 1 + i % 5], seed=i).resize((1600, 1200))
        pictures.append(picture)
    return pictures


class _Files:
    """Pictures saved as PNG files and resolved by id, as the executor resolves stored assets."""

    def __init__(self, folder: Path):
        self.folder, self.views = folder, {}

    def add(self, image: Any) -> str:
        asset_id = f"{len(self.views):032x}"
        path = self.folder / asset_id
        path.write_bytes(encode_png(image))
        self.views[asset_id] = AssetView(id=asset_id, path=path, kind="image", mime="image/png")
        return asset_id


def _timed(call, repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of `call()` over `repeats` runs, and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def measure_ocr(models: ModelManager, repeats: int) -> dict:

    started = time.perf_counter()
    reader = models.get("ocr")
    loaded = time.perf_counter() - started
    frame, blank = frame_1080p(FRAME_LINES), frame_1080p([])
    reader.read(frame)  # first call warms onnxruntime's kernels for these shapes
    wall, cpu, boxes = _timed(lambda: reader.read(frame), repeats)
    blank_wall, _, _ = _timed(lambda: reader.read(blank), repeats)
    read = [line["text"] for line in layout_values(boxes, *frame.size)["lines"]]
    return {"ocr_load_s": round(loaded, 2), "ocr_1080p_s": round(wall, 3), "ocr_1080p_cpu_s": round(cpu, 3),
            "ocr_1080p_exact": read == FRAME_LINES, "ocr_1080p_blank_s": round(blank_wall, 3)}


def measure_classifier(models: ModelManager, repeats: int) -> dict:
    started = time.perf_counter()
    classifier = models.get("classifier")
    loaded = time.perf_counter() - started
    photos = library(32)[::2][:16]
    classifier.probabilities(photos[:1])
    single, _, _ = _timed(lambda: classifier.probabilities(photos[:1]), repeats)
    batch, _, _ = _timed(lambda: classifier.probabilities(photos), max(1, repeats // 2))
    return {"classifier_load_s": round(loaded, 2), "classify_s": round(single, 3),
            "classify_batched_s_per_image": round(batch / len(photos), 3)}


def measure_describe(models: ModelManager, count: int, folder: Path) -> dict:

    files = _Files(folder)
    ids = [files.add(p) for p in library(count)]
    ctx = ToolContext(models=models, resolve=files.views.__getitem__)
    tool = DescribeImage()
    tool.run(tool.parse({"image": ids[0]}), ctx)  # warm
    started = time.perf_counter()
    results = [tool.run(tool.parse({"image": i}), ctx) for i in ids]
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(0, count, 16):
        tool.run_batch([tool.parse({"image": i}) for i in ids[n:n + 16]], ctx)
    batched = time.perf_counter() - started
    started = time.perf_counter()  # the same pictures again: onnxruntime has met every shape now
    for i in ids:
        tool.run(tool.parse({"image": i}), ctx)
    again = time.perf_counter() - started
    with_text = sum(1 for r in results if r.values["text"])
    return {"describe_images": count, "describe_with_text": with_text,
            "describe_per_min": round(60 * count / one_by_one, 1),
            "describe_batched_per_min": round(60 * count / batched, 1),
            "describe_again_per_min": round(60 * count / again, 1),
            "describe_example": results[0].values["description"]}


def measure(images: int = 100, repeats: int = 5) -> dict:
    import torch

    load_before = os.getloadavg()[0]
    models = ModelManager("offline", Path(tempfile.gettempdir()) / "storyloom-bench-models")
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-ocr-") as tmp:
        figures = {**measure_ocr(models, repeats), **measure_classifier(models, repeats),
                   **measure_describe(models, images, Path(tmp))}
    return {"profile": "offline", "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
            **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_ocr", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--images", type=int, default=100, choices=range(1, 1001), metavar="N")
    parser.add_argument("--repeats", type=int, default=5, choices=range(1, 51), metavar="R")
    args = parser.parse_args(argv)
    result = measure(args.images, args.repeats)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    proof_report.print_figures(f"reading benchmark ({result['profile']} profile, {result['cpus']} CPUs)", result,
                               GOALS, "goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
