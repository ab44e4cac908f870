"""The model manager's bookkeeping, on real (small) torch modules loaded through a profile loader."""
import threading
import time

import pytest

from tools.model_manager import ModelManager, ModelUnavailable, estimate_bytes
from tools.profiles import ModelSpec

LOADED: list[str] = []


def load_linear(spec, manager):
    """A real torch module of `options["mb"]` megabytes of float32 weights."""
    import torch

    LOADED.append(spec.role)
    if spec.options.get("broken"):
        raise OSError("config.json is not valid JSON")
    return torch.nn.Linear(spec.options["mb"] * 2**18, 1, bias=False)


def _manager(tmp_path, budget_gb=None, **roles):
    mm = ModelManager("offline", tmp_path, memory_gb=budget_gb)
    mm.specs = {role: ModelSpec(role, f"test/{role}", "tiny", "tests.unit.test_model_manager:load_linear",
                                options=opts) for role, opts in roles.items()}
    return mm


def test_loads_once_and_counts(tmp_path):
    mm = _manager(tmp_path, a={"mb": 1})
    first = mm.get("a")
    with mm.use("a") as again:
        assert again is first
    assert mm.loads["a"] == 1 and mm.resident_bytes() == 2**20


def test_least_recently_used_idle_model_is_evicted_over_budget(tmp_path):
    mm = _manager(tmp_path, budget_gb=5 / 1024, a={"mb": 2}, b={"mb": 2}, c={"mb": 2})
    mm.get("a")
    mm.get("b")
    mm.get("a")  # a is now more recent than b
    mm.get("c")
    assert mm.loaded() == ["a", "c"] and mm.evictions["b"] == 1
    mm.get("b")
    assert mm.loads["b"] == 2 and "b" in mm.loaded()


def test_a_model_in_use_is_never_evicted(tmp_path):
    mm = _manager(tmp_path, budget_gb=3 / 1024, a={"mb": 2}, b={"mb": 2})
    with mm.use("a"):
        mm.get("b")  # over budget, but a is busy: both stay rather than failing a running step
        assert mm.loaded() == ["a", "b"]
    mm.get("b")
    assert mm.loaded() == ["a", "b"]  # eviction happens on the next load, not on release


def test_one_model_is_used_by_one_step_at_a_time(tmp_path):
    mm = _manager(tmp_path, a={"mb": 1})
    inside, overlap = [], []

    def work():
        with mm.use("a"):
            overlap.append(len(inside))
            inside.append(1)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == [0, 0, 0, 0] and mm.loads["a"] == 1 and mm.busy_seconds["a"] >= 0.2


def test_load_failures_are_clear_and_unknown_roles_refused(tmp_path):
    mm = _manager(tmp_path, a={"mb": 1, "broken": True})
    with pytest.raises(ModelUnavailable, match=r"test/a \(a\) failed to load: config.json is not valid JSON; delete"):
        mm.get("a")
    with pytest.raises(ModelUnavailable, match="no model for role 'video'"):
        mm.get("video")


def test_estimate_falls_back_to_files_on_disk(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"x" * 1234)
    assert estimate_bytes(object(), tmp_path / "m.onnx") == 1234
    assert estimate_bytes(object(), None) == 0
