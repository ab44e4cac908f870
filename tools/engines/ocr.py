"""The OCR engine (role `ocr`): RapidOCR with the PP-OCRv6 ONNX models packaged in its wheel."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.media.text_layout import TextBox, clean_text, plausible
from tools.profiles import ModelSpec

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
