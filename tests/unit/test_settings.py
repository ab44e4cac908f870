from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.settings import Settings


def test_defaults(monkeypatch):
    for key in ("STORYLOOM_DATA_DIR", "STORYLOOM_DATABASE_URL", "STORYLOOM_PROFILE", "STORYLOOM_MODELS_DIR"):
        monkeypatch.delenv(key, raising=False)
    s = Settings()
    assert s.data_dir == Path("./data") and s.profile == "auto" and s.llm.base_url is None
    assert s.db_url == f"sqlite:///{Path('./data/storyloom.db').resolve()}"
    assert s.models_path == Path("./data/models").resolve()


def test_environment_with_prefix_and_nested_delimiter(monkeypatch, tmp_path):
    monkeypatch.setenv("STORYLOOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STORYLOOM_PROFILE", "cpu")
    monkeypatch.setenv("STORYLOOM_LLM__BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("STORYLOOM_LLM__MODEL", "Qwen/Qwen3-8B")
    monkeypatch.setenv("STORYLOOM_LLM__API_KEY", "secret")
    monkeypatch.setenv("STORYLOOM_DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/db")
    s = Settings()
    assert s.profile == "cpu" and s.resolved_profile() == "cpu"
    assert (s.llm.base_url, s.llm.model, s.llm.api_key, s.llm.timeout) == \
        ("http://127.0.0.1:8000/v1", "Qwen/Qwen3-8B", "secret", 60.0)
    assert s.db_url.startswith("postgresql+psycopg://")


def test_unknown_profile_is_rejected(monkeypatch):
    monkeypatch.setenv("STORYLOOM_PROFILE", "quantum")
    with pytest.raises(ValidationError, match="profile"):
        Settings()


def test_every_field_is_documented():
    from agent.settings import Gate, Gates

    groups = [Settings.model_fields[g].annotation for g in ("llm", "story", "executor", "critic")] + [Gate, Gates]
    for model in (Settings, *groups):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def test_one_gate_can_be_changed_without_losing_the_others(monkeypatch):
    monkeypatch.setenv("STORYLOOM_CRITIC__GATES__CPU__CLIP_MARGIN", "5")
    monkeypatch.setenv("STORYLOOM_CRITIC__MAX_ROUNDS", "3")
    critic = Settings().critic
    assert critic.max_rounds == 3 and critic.gates.cpu.clip_margin == 5 and critic.gates.cpu.clip_floor == 20
    assert critic.gates.offline.clip_floor == -100 and critic.gates.gpu.clip_margin == 3
