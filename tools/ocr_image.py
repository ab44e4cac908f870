"""Reading the words in a picture: the `ocr_image` tool (the engine, role `ocr`, is in `tools.engines.ocr`).

Every profile runs RapidOCR with PaddleOCR's PP-OCRv6 small detector and recogniser: ONNX files inside
the rapidocr wheel (Apache-2.0), run by onnxruntime, which rapidocr does not declare, so the project
does. The recogniser's alphabet covers Latin with accents, Greek, Chinese and Japanese (not Cyrillic,
Korean or Arabic); what it reads is returned as read, never transliterated.

The engine is only ever handed decoded pixels (never a path: rapidocr fetches URL strings itself).
"""
from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.engines.ocr import MIN_CONFIDENCE
from tools.media.image import read_image
from tools.media.text_layout import layout_values
from tools.registry import register


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
