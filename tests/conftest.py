"""Shared fixtures. No test touches the network: hub downloads are switched off and any socket
connection to a non-loopback address fails loudly. Every test gets its own data dir; built tiny
models and the converted embedded LLM are cached in `.cache/models` across runs (deterministic)."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.fake_openai", "tests.fixtures.postgres", "tests.fixtures.server",
                  "tests.fixtures.browser", "tests.fixtures.studio", "tests.fixtures.ray_cluster"]

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = Path(os.environ.get("STORYLOOM_TEST_MODELS_DIR", ROOT / ".cache" / "models"))

for _name, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                      "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error",
                      "DIFFUSERS_VERBOSITY": "error"}.items():
    os.environ[_name] = _value

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(f"tests may not reach the network (tried {host})")
    return _real_connect(self, address)


socket.socket.connect = _loopback_only


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                    "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "CT2_FORCE_CPU_ISA")


def pytest_report_header(config) -> str:
    """Model outputs vary with the CPU and the thread count (see the Makefile's `test` target): say which."""
    chosen = ", ".join(f"{k}={os.environ[k]}" for k in THREAD_VARIABLES if k in os.environ) or "library defaults"
    return f"cpus: {os.cpu_count()}; threads and kernels: {chosen}"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    return MODELS_DIR


@pytest.fixture(scope="session")
def models(models_dir):
    """One offline model manager for the whole session: each model loads once, as in a server."""
    from tools.model_manager import ModelManager

    return ModelManager("offline", models_dir)


@pytest.fixture
def env(tmp_path, models_dir, monkeypatch) -> dict[str, str]:
    """STORYLOOM_* variables pointing at this test's own data dir (also handed to subprocesses)."""
    values = {"STORYLOOM_DATA_DIR": str(tmp_path / "data"), "STORYLOOM_MODELS_DIR": str(models_dir),
              "STORYLOOM_PROFILE": "offline"}
    for key in [k for k in os.environ if k.startswith("STORYLOOM_") and k not in values]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


@pytest.fixture
def runtime(env, models):
    """A Runtime on this test's data dir that shares the session's loaded models."""
    from agent.runtime import Runtime
    from agent.settings import Settings
    from memory import AssetStore, open_database

    settings = Settings()
    return Runtime(settings=settings, profile="offline", db=open_database(settings.db_url),
                   store=AssetStore(settings.assets_path), models=models)
