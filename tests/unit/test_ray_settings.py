"""The Ray backend's settings and the coordinator's side of a call, without starting Ray."""
import pytest
from pydantic import ValidationError

from agent.model_backend import LocalBackend
from agent.ray_backend import RayBackend, shipped_inputs
from agent.runtime import Runtime
from agent.settings import Settings
from tests.helpers import Assets


def _runtime(settings: Settings) -> Runtime:
    return Runtime(settings=settings, profile="offline", db=None, store=None, models=None)


def test_the_local_backend_stays_the_default(monkeypatch):
    monkeypatch.delenv("STORYLOOM_EXECUTOR__BACKEND", raising=False)
    assert isinstance(_runtime(Settings()).backend, LocalBackend)


def test_ray_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STORYLOOM_EXECUTOR__BACKEND", "ray")
    monkeypatch.setenv("STORYLOOM_RAY__ADDRESS", "ray://head:10001")
    monkeypatch.setenv("STORYLOOM_RAY__GPUS", '{"text_to_image": 0.5, "tts": 0.25}')
    monkeypatch.setenv("STORYLOOM_RAY__MODELS_DIR", str(tmp_path))
    settings = Settings()
    assert settings.ray.address == "ray://head:10001" and settings.ray.gpus == {"text_to_image": 0.5, "tts": 0.25}
    backend = _runtime(settings).backend  # made without joining any cluster: actors start on first use
    assert isinstance(backend, RayBackend) and backend.roles() == []
    assert backend.options.models_dir == str(tmp_path.resolve()) and backend.options.profile == "offline"


@pytest.mark.parametrize("variable,value,message", [
    ("STORYLOOM_RAY__GPUS", '{"text_to_image": -1}', "GPU fractions must lie between 0 and 8: text_to_image=-1"),
    ("STORYLOOM_EXECUTOR__BACKEND", "dask", "backend"),
    ("STORYLOOM_RAY__MAX_RESTARTS", "-2", "max_restarts"),
])
def test_bad_ray_settings_are_refused(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_a_call_ships_the_bytes_of_the_assets_its_arguments_name(tmp_path):
    assets = Assets(tmp_path)
    picture = assets.add(b"\x89PNG picture", "image", "image/png", width=8, height=8)
    unknown = "0" * 32
    shipped = shipped_inputs([{"image": picture, "text": "a seal"}, {"images": [picture, unknown]}], assets.context())
    assert list(shipped) == [picture]  # once, however often named; an id of no asset stays behind
    assert (shipped[picture].data, shipped[picture].kind, shipped[picture].width) == (b"\x89PNG picture", "image", 8)
