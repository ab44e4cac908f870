"""Review before rendering in the Studio (Chromium via Playwright, axe-core): a chat turn sent with
"Review the storyboard" stops with the storyboard as labelled fields; an edited picture prompt is
approved with the keyboard-reachable button, and the story renders from the edited board."""
from __future__ import annotations

import pytest

from tests.fixtures.browser import assert_accessible
from tests.fixtures.studio import send_message

LONG = 120_000  # ms: a whole story on a busy 2-core machine


@pytest.mark.slow  # a browser and a whole story: make test-slow (the default run's budget)
def test_a_reviewed_story_is_edited_and_approved(studio, browser):
    key = studio.api.key("review")
    page = studio.page(browser, key)
    page.get_by_role("checkbox", name="Review the storyboard before anything is drawn").check()
    card = send_message(page, "a story about a fox in a forest, one scene")
    approve = card.get_by_role("button", name="Approve storyboard")
    approve.wait_for(timeout=LONG)
    assert card.get_by_role("textbox", name="Title").input_value()
    assert card.get_by_role("checkbox", name="Lock scene 1").is_checked() is False
    assert card.locator(".steps .badge").count() == 0  # nothing rendered while it waits
    assert_accessible(page, "review-storyboard")
    card.get_by_role("textbox", name="Picture prompt").fill("a red fox under a full moon")
    approve.press("Enter")
    card.locator("video").wait_for(timeout=LONG)
    assert card.locator("section.review").is_hidden()
    with studio.client(key) as client:
        run_id = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]["id"]
        run = client.get(f"/v1/runs/{run_id}").json()
    assert run["status"] == "succeeded", run["error"]
    prompt = next(s for s in run["plan"]["steps"] if s["id"] == "image-1")["args"]["prompt"]
    assert prompt.startswith("a red fox under a full moon")
    assert_accessible(page, "review-approved")
