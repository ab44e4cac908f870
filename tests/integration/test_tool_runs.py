"""`storyloom tool run` builds its executor the way every run does, so it honours the cache setting."""
import pytest

from agent.service.tool_runs import run_tool

ARGS = {"prompt": "a red fox in snow", "seed": 3, "width": 64, "height": 64}


@pytest.mark.parametrize("cache", [True, False])
def test_a_repeated_tool_call_is_cached_only_when_the_cache_is_on(runtime, cache):
    runtime.settings.executor.cache = cache
    first = run_tool(runtime, "generate_image", ARGS)
    again = run_tool(runtime, "generate_image", ARGS)
    assert first["status"] == again["status"] == "succeeded"
    assert not first["values"].get("cached")
    assert bool(again["values"].get("cached")) is cache
    # Same seed, same bytes either way: the cache only decides whether they are computed again.
    assert again["assets"][0]["path"] == first["assets"][0]["path"]
