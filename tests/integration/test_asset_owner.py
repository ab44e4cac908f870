"""Plans read only their own key's assets (issue 19): a raw asset id of another key in a plan's
arguments, as an OpenAI-compatible server that ignores the response schema may write, is refused
exactly like an id that does not exist; the same key's earlier assets still resolve."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from agent.executor import Executor
from agent.plan_schema import PlanStep
from api.auth import create_key
from memory import repo
from tools.base import ToolError


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _run_with_image(runtime, key_id: str | None) -> tuple[str, str]:
    data = _png()
    sha, _ = runtime.store.put(data)
    with runtime.db.session() as s:
        run_id = repo.create_run(s, kind="freeform", request="owner", profile="offline", api_key_id=key_id).id
        asset_id = repo.create_asset(s, run_id=run_id, kind="image", mime="image/png", sha256=sha, size=len(data)).id
    return run_id, asset_id


def _executor(runtime, run_id: str) -> Executor:
    return Executor(runtime.db, runtime.store, runtime.models, run_id=run_id, use_cache=False)


def test_another_keys_asset_id_in_a_plan_is_refused_like_a_missing_one(runtime):
    alice, bob = create_key(runtime.db, "alice")[0], create_key(runtime.db, "bob")[0]
    _, alice_image = _run_with_image(runtime, alice)
    bob_run, _ = _run_with_image(runtime, bob)
    step = PlanStep(id="read", tool="classify_image", args={"image": alice_image})
    outcome = _executor(runtime, bob_run).run_step(step, {})
    assert outcome.status == "failed" and outcome.error == f"asset {alice_image} does not exist"
    with pytest.raises(ToolError, match="does not exist"):
        _executor(runtime, bob_run).ctx.asset(alice_image, "image")
    keyless_run, keyless_image = _run_with_image(runtime, None)
    with pytest.raises(ToolError, match="does not exist"):  # a CLI run's assets are not a key's either
        _executor(runtime, bob_run).ctx.asset(keyless_image, "image")
    with pytest.raises(ToolError, match="does not exist"):
        _executor(runtime, keyless_run).ctx.asset(alice_image, "image")


def test_the_same_keys_earlier_assets_still_resolve(runtime):
    alice = create_key(runtime.db, "alice")[0]
    _, earlier = _run_with_image(runtime, alice)
    later_run, own = _run_with_image(runtime, alice)
    for asset_id in (earlier, own):
        assert _executor(runtime, later_run).ctx.asset(asset_id, "image").id == asset_id
    _, cli_image = _run_with_image(runtime, None)
    assert _executor(runtime, _run_with_image(runtime, None)[0]).ctx.asset(cli_image, "image").id == cli_image


def test_the_critics_score_cache_answers_only_the_same_key(runtime):
    alice, bob = create_key(runtime.db, "alice")[0], create_key(runtime.db, "bob")[0]
    alice_run, image = _run_with_image(runtime, alice)
    with runtime.db.session() as s:
        sha = repo.get_asset(s, image).sha256
        repo.add_score(s, asset_id=image, run_id=alice_run, metric="clip", value=0.3, model_id="m",
                       details={"text": "a red square"})
    later_alice, bob_run = _run_with_image(runtime, alice)[0], _run_with_image(runtime, bob)[0]
    with runtime.db.session() as s:
        def find(run_id):
            return repo.find_score(s, sha256=sha, metric="clip", model_id="m", text="a red square", run_id=run_id)

        assert find(later_alice).value == 0.3
        assert find(bob_run) is None  # same bytes, same text: still scored afresh for another key
        assert find(_run_with_image(runtime, None)[0]) is None
