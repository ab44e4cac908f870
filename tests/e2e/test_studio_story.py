"""Storyloom Studio in a real browser (Debian's Chromium driven by Playwright) against a real server:
sign-in, a story made live (progress before the run ends, pictures with the alt text Storyloom wrote,
the video with captions on), the asset panel, the storybook, downloads, "Change scene 2" recomputing
only scene 2, and 375 px. axe-core runs on every view; screenshots go to .cache/screenshots/."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.browser import SCREENSHOTS, assert_accessible
from tests.fixtures.studio import send_message

# The grounded storyboard: the cast comes from the request (the keeper, the seal); the LLM writes scene 1
# (with a title) about the keeper, then scene 2 about the seal.
TITLE = "The Keeper and the Seal"
SCENES = [
    {"title": TITLE,
     "narration": "The lighthouse keeper climbed the stairs every evening, and she lit the great lamp for the boats."},
    {"narration": "The seal swam up to the rocks one morning and barked hello to the keeper at the door."},
]
REWRITE = {"picture": "A grey seal pup in a red scarf on the rocks below a lighthouse"}
LONG = 120_000  # ms: a whole story on a busy 2-core machine


def test_a_wrong_key_is_refused_and_the_right_one_kept_for_the_tab(studio, browser):
    key = studio.api.key("signin")
    page = studio.new_page(browser, 1000, 700)
    page.goto(studio.url)
    assert_accessible(page, "sign-in")
    page.get_by_role("textbox", name="API key").fill("sl_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    assert "not accepted" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "sign-in-refused")
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("textbox", name="API key").press("Enter")  # the keyboard is enough
    page.get_by_role("textbox", name="Message").wait_for()
    page.reload()  # sessionStorage: still signed in in this tab
    page.get_by_role("textbox", name="Message").wait_for()
    assert page.evaluate("localStorage.length") == 0  # the key is never kept beyond the tab
    page.context.close()


def test_a_story_is_made_live_and_changing_scene_2_remakes_only_scene_2(studio, browser):
    key = studio.api.key("story")
    studio.llm.script(*SCENES, REWRITE)
    page = studio.page(browser, key)
    card = send_message(page, "a bedtime story about a lighthouse keeper and a seal, two scenes")
    card.locator(".steps .badge.running").first.wait_for()  # a step has started: progress is on screen
    page.wait_for_function("title => document.querySelector('[role=status]').textContent.includes(title)",
                           arg=TITLE)  # and said, under the story's title
    with studio.client(key) as client:
        first = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]
        assert first["status"] in ("queued", "running")  # ... and the run has not ended
        board = client.get(f"/v1/runs/{first['id']}/storyboard").json()
        _check_finished_story(page, card, board)
        assert_accessible(page, "chat-story")
        _check_asset_panel(page, card)
        _check_storybook(page, card, studio, first["id"], board)
        _check_manifest_download(page, card, first["id"])
        _check_lock(page, card, client, first["id"])

        card.get_by_role("button", name="Change scene 2").press("Enter")  # by keyboard: focus goes to the message
        message = page.get_by_role("textbox", name="Message")
        assert message.input_value() == "In scene 2, "
        page.keyboard.type("make the seal wear a red scarf")
        page.keyboard.press("Enter")  # Enter sends
        edit = page.locator("article.run").nth(1)
        edit.locator("video").wait_for(timeout=LONG)
        second = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]
        steps = {s["key"]: s["cached"] for s in client.get(f"/v1/runs/{second['id']}").json()["steps"]}
    assert steps == {"image-1": True, "speech-1": True, "speech-2": True, "image-2": False, "video": False}
    assert edit.locator(".steps li", has_text="Scene 1 picture").locator(".badge.cached").count() == 1
    assert edit.locator(".steps li", has_text="Scene 2 picture").locator(".badge.cached").count() == 0
    page.locator(".msg.assistant", has_text="scene 2 changed").wait_for()
    assert_accessible(page, "chat-scene-2-changed")
    _check_narrow(page)


def _check_finished_story(page, card, board: dict) -> None:
    video = card.locator("video")
    video.wait_for(timeout=LONG)
    track = video.locator("track")
    assert track.get_attribute("kind") == "captions" and track.get_attribute("srclang") == "en"
    page.wait_for_function("v => v.textTracks[0].mode === 'showing' && v.textTracks[0].cues.length > 0",
                           arg=video.element_handle())
    assert board["title"] == TITLE and board["scenes"][0]["narration"] == SCENES[0]["narration"]
    assert card.get_by_role("img").nth(0).get_attribute("alt") == board["scenes"][0]["picture"]
    assert card.locator("audio").count() == 2
    assert card.locator(".steps .badge.succeeded").count() == 5
    assert card.locator(".verdicts li").count() >= 4  # a CLIP verdict per picture, a WER verdict per narration
    assert "the seal, a seal" in card.inner_text()


def _check_lock(page, card, client, run_id: str) -> None:
    """Lock is a named toggle button (aria-pressed); a locked scene cannot be redone."""
    lock = card.get_by_role("button", name="Lock scene 1")
    assert lock.get_attribute("aria-pressed") == "false"
    lock.click()
    page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'", arg=lock.element_handle())
    assert card.get_by_role("button", name="Redo scene 1").is_disabled()
    assert card.get_by_role("button", name="Redo scene 2").is_enabled()
    assert client.get(f"/v1/runs/{run_id}/storyboard").json()["scenes"][0]["locked"] is True


def _check_asset_panel(page, card) -> None:
    card.get_by_role("button", name="Details of scene 1 picture").click()
    panel = page.get_by_role("dialog")
    panel.get_by_role("rowheader", name="CLIP score", exact=True).wait_for()
    text = panel.inner_text()
    assert "Seed" in text and "Model" in text and "Other candidates" in text
    assert_accessible(page, "asset-panel")
    panel.get_by_role("button", name="Close").click()
    assert not panel.is_visible()


def _check_storybook(page, card, studio, run_id: str, board: dict) -> None:
    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Open storybook").click()
    book = opened.value
    book.get_by_role("heading", name=TITLE).wait_for()
    assert book.get_by_role("img").first.get_attribute("alt") == board["scenes"][0]["picture"]
    assert book.locator("track[kind=captions]").count() == 1
    assert_accessible(book, "storybook-opened")
    # The delivered file itself, opened from the output folder as a file: it meets AA too.
    book.goto((studio.output_dir(run_id) / "storybook.html").as_uri())
    book.get_by_role("main").wait_for()
    assert_accessible(book, "storybook-file")
    book.close()


def _check_manifest_download(page, card, run_id: str) -> None:
    with page.expect_download() as download:
        card.get_by_role("button", name="Download Manifest (JSON)").click()
    manifest = json.loads(Path(download.value.path()).read_text())
    assert manifest["run_id"] == run_id and manifest["status"] == "succeeded"


def _check_narrow(page) -> None:
    assert page.evaluate("getComputedStyle(document.querySelector('.scene')).animationName") == "land"
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate("getComputedStyle(document.querySelector('.scene')).animationName") == "none"
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "chat-375px")
    assert (SCREENSHOTS / "chat-375px.png").is_file()


def test_sessions_are_started_renamed_and_opened(studio, browser):
    page = studio.page(browser, studio.api.key("sessions"))
    page.get_by_role("button", name="New session").click()
    page.get_by_role("button", name="Rename session").click()
    page.get_by_role("textbox", name="Session title").fill("Seal stories")
    page.get_by_role("button", name="Save title").click()
    page.get_by_role("heading", name="Seal stories", level=1).wait_for()
    first = page.url
    page.get_by_role("button", name="New session").click()
    page.wait_for_url(lambda url: url != first)
    page.get_by_role("link", name="Seal stories").click()
    page.get_by_role("heading", name="Seal stories", level=1).wait_for()
    assert page.url == first
    assert page.get_by_role("link", name="Seal stories").get_attribute("aria-current") == "page"
    assert_accessible(page, "sessions")
