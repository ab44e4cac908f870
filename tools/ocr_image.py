"""Reading the words in a picture: the `ocr_image` tool and the OCR model's loader (role `ocr`).

Every profile runs RapidOCR with PaddleOCR's PP-OCRv6 small detector and recogniser: ONNX files inside
the rapidocr wheel (Apache-2.0), run by onnxruntime, which rapidocr does not declare, so the project
does. The recogniser's alphabet covers Latin with accents, Greek, Chinese and Japanese (not Cyrillic,
Korean or Arabic); what it reads is returned as read, never transliterated.

The engine is only ever handed decoded pixels (never a path: rapidocr fetches URL strings itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref, register
from tools.image_input import read_image
from tools.profiles import ModelSpec
from tools.text_layout import TextBox, clean_text, layout_values, plausible

MIN_CONFIDENCE = 0.5  # rapidocr's own default: below it a recognised string is mostly wrong
DETECT_SIDE = 960  # the detector sees the picture at most this wide (PaddleOCR's default; 1080p at 0.5x)
# onnxruntime threads per OCR call. One, measured: a 1080p frame took 0.66 s on one thread and 1.1 s on
# two on this project's 2-core machines (idle; 0.95 s against 1.8 s when busy), since the second
# thread spins for cores the rest of the service uses. Several steps in parallel use the other cores.
THREADS = 1


@dataclass
class TextReader:
    """A loaded RapidOCR engine: RGB PIL images in, the pieces of text found out."""

    engine: Any
    spec: ModelSpec
    version: str

    def read(self, image: Any, min_confidence: float = MIN_CONFIDENCE) -> list[TextBox]:
        """Every piece of text in `image` read with at least `min_confidence`, in image pixels."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # the engine works in BGR
        out = self.engine(bgr, text_score=min_confidence)
        if out.boxes is None or out.txts is None:  # nothing detected
            return []
        boxes = []
        for quad, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
            corners = tuple((int(round(x)), int(round(y))) for x, y in np.asarray(quad).tolist())
            box = TextBox(text=clean_text(text), quad=corners, confidence=float(score))
            if box.text and score >= min_confidence and plausible(box, image.width, image.height):
                boxes.append(box)
        return boxes


def load_ocr(spec: ModelSpec, manager) -> TextReader:
    """RapidOCR with its packaged PP-OCRv6 models; all three sessions are created here, not on first use.

    The text-orientation classifier is off: it only turns upside-down lines, which photos and frames
    rarely hold, and it costs a pass per line.
    """
    import onnxruntime  # noqa: F401 - fail here, named, when the runtime rapidocr needs is missing
    import rapidocr
    from rapidocr import RapidOCR

    params = {
        "Global.log_level": "error",
        "Global.use_cls": False,
        "Det.limit_type": "max",
        "Det.limit_side_len": int(spec.options.get("detect_side", DETECT_SIDE)),
        "EngineConfig.onnxruntime.intra_op_num_threads": int(spec.options.get("threads", THREADS)),
    }
    engine = RapidOCR(params=params)
    # rapidocr creates its ONNX sessions lazily on the first call (seconds each); load them now so
    # the model manager's load time holds the cost. Private hooks: rapidocr is pinned to 3.x.
    for hook in ("_load_det_model", "_load_rec_model"):
        getattr(engine, hook, lambda: None)()
    return TextReader(engine=engine, spec=spec, version=getattr(rapidocr, "__version__", "unknown"))


class OcrImageInput(ToolInput):
    image: str = asset_ref("image", "The image to read text from (an image asset id).")
    min_confidence: float = Field(
        default=MIN_CONFIDENCE, ge=0.0, le=1.0,
        description="Drop pieces of text read with less confidence than this (0..1).",
    )


@register
class OcrImage(Tool):
    """Read the text in an image (OCR): the words line by line in reading order, each line's box and confidence.

    Values: `text` (lines joined by newlines; empty when the image has no text), `lines`, `boxes`,
    `confidence` and `text_area` (share of the image covered by text, 0..1).
    """

    name = "ocr_image"
    input_model = OcrImageInput
    outputs = {}
    model_role = "ocr"

    def run(self, args: OcrImageInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.image, "image")
        image = read_image(view.path, f"image {args.image}")
        with ctx.models.use(self.model_role) as reader:
            boxes = reader.read(image, args.min_confidence)
        return ToolResult(values=layout_values(boxes, image.width, image.height),
                          model_id=reader.spec.model_id, model_revision=reader.version)
