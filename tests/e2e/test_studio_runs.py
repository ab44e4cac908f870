"""Storyloom Studio in a real browser, the other controls: cancel and retry a run, a dropped
connection and a reload mid-run (the stream goes on with no gap and no duplicate), the runs view,
the brief form, the narration view, and the one-line messages for 404, 413, 422 and 429 that lose
nothing."""
from __future__ import annotations

import re

from tests.fixtures.browser import assert_accessible
from tests.fixtures.fake_openai import HANG
from tests.fixtures.narrate_media import scene
from tests.fixtures.proxy import CuttableProxy
from tests.fixtures.studio import UPLOAD_LIMIT, send_message

LONG = 120_000  # ms: a whole story on a busy 2-core machine


def _log_ids(card) -> list[int]:
    return card.locator("[data-event-id]").evaluate_all("items => items.map(li => Number(li.dataset.eventId))")


def test_a_run_is_cancelled_and_retried(studio, browser):
    key = studio.api.key("cancel")
    page = studio.page(browser, key)
    card = send_message(page, "a story about a fox in the snow, three scenes")
    card.locator(".steps .badge.running").first.wait_for(timeout=LONG)
    card.get_by_role("button", name="Cancel run").click()
    card.locator("header .badge.cancelled").wait_for(timeout=LONG)
    card.get_by_role("button", name="Retry run").click()
    retry = page.locator("article.run").nth(1)
    retry.locator("video").wait_for(timeout=LONG)
    assert page.locator(".msg.user .who", has_text="You (retry)").count() == 1
    with studio.client(key) as client:
        runs = client.get("/v1/runs").json()["runs"]
    assert [r["status"] for r in runs] == ["succeeded", "cancelled"]
    assert runs[0]["request"] == runs[1]["request"] and runs[0]["session_id"] == runs[1]["session_id"]


def test_a_dropped_connection_and_a_reload_mid_run_lose_no_event_and_repeat_none(studio, browser):
    key = studio.api.key("reload")
    studio.llm.script(HANG)  # planning waits for the LLM's time-out: the run is surely unfinished meanwhile
    proxy = CuttableProxy(int(studio.api.base_url.rsplit(":", 1)[1]))
    try:
        page = studio.new_page(browser)
        page.goto(proxy.url)
        page.get_by_role("textbox", name="API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        card = send_message(page, "a story about an owl who counts the stars, two scenes")
        card.locator("[data-type=stage]").first.wait_for(state="attached", timeout=LONG)
        with page.expect_request(lambda r: re.search(r"/events\?after=[1-9]", r.url) is not None):
            proxy.cut()  # every open connection drops, as in a network blip or a server restart
        with studio.client(key) as client:
            run_id = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]["id"]
            assert client.get(f"/v1/runs/{run_id}").json()["status"] == "running"
        page.reload()
        card = page.locator("article.run").last
        card.locator("[data-type=succeeded]").wait_for(state="attached", timeout=LONG)
        card.locator("video").wait_for(timeout=LONG)
        ids = _log_ids(card)
        assert ids == studio.event_ids(key, run_id)  # every stored event once, in order
        assert len(ids) == len(set(ids))
    finally:
        proxy.close()


def test_the_runs_view_lists_every_run_and_cancels_one(studio, browser):
    key = studio.api.key("runs")
    page = studio.page(browser, key)
    page.get_by_role("link", name="Brief").click()
    page.get_by_role("textbox", name="Goal").fill("announce the lighthouse museum opening")
    page.get_by_role("textbox", name="Audience").fill("families")
    page.get_by_role("spinbutton", name="Width (px)").fill("64")
    page.get_by_role("spinbutton", name="Height (px)").fill("64")
    assert_accessible(page, "brief")
    page.get_by_role("button", name="Submit brief").click()
    brief = page.locator("article.run")
    brief.locator("header .badge.succeeded").wait_for(timeout=LONG)
    brief.get_by_role("img").first.wait_for()
    assert_accessible(page, "run-brief")

    page.get_by_role("link", name="Chat").click()
    send_message(page, "a story about a whale who sings, four scenes")
    page.get_by_role("link", name="Runs").click()
    row = page.locator("tr", has_text="a whale who sings")
    row.get_by_role("button", name=re.compile("^Cancel")).click()
    row.locator(".badge.cancelled").wait_for(timeout=LONG)
    assert page.locator("tr", has_text="announce the lighthouse museum").locator(".badge.succeeded").count() == 1
    assert_accessible(page, "runs")


def test_errors_are_one_line_and_the_draft_survives(studio, browser):
    key = studio.api.key("errors")
    page = studio.page(browser, key)
    message = page.get_by_role("textbox", name="Message")
    message.fill("in scene 7 add a rainbow")
    page.get_by_role("button", name="Send").click()
    assert "scene 7" in page.get_by_role("alert").inner_text()  # 422, said in one line
    assert message.input_value() == "in scene 7 add a rainbow"
    page.reload()
    assert page.get_by_role("textbox", name="Message").input_value() == "in scene 7 add a rainbow"

    settings = studio.api.rt.settings.server
    limit, settings.max_in_flight_per_key = settings.max_in_flight_per_key, 0
    try:
        page.get_by_role("textbox", name="Message").fill("a story about a whale")
        page.get_by_role("button", name="Send").click()
        page.get_by_role("alert").filter(has_text="Too many runs").wait_for()  # 429
    finally:
        settings.max_in_flight_per_key = limit
    assert page.get_by_role("textbox", name="Message").input_value() == "a story about a whale"
    assert_accessible(page, "chat-error")

    page.goto(studio.url + "#/chat/" + "0" * 32)
    page.get_by_role("alert").filter(has_text="no longer exists").wait_for()  # 404


def test_narration_describes_a_library_picture_and_refuses_a_big_upload(studio, browser, tmp_path):
    scene(studio.library / "harbour.png")
    key = studio.api.key("narration")
    page = studio.page(browser, key)
    page.get_by_role("link", name="Narration").click()
    assert_accessible(page, "narration")
    page.get_by_role("textbox", name="Files or folders, one per line").fill("harbour.png")
    page.get_by_role("button", name="Describe these").click()
    job = page.locator("section", has=page.get_by_role("heading", name="Narration job"))
    job.locator("p .badge.succeeded").wait_for(timeout=LONG)
    row = job.get_by_role("row", name=re.compile("harbour.png"))
    assert row.locator(".badge.done").count() == 1 and "1.1.1" in row.inner_text()
    with page.expect_download() as report:
        job.get_by_role("button", name="Download report (HTML)").click()
    assert "harbour.png" in open(report.value.path(), encoding="utf-8").read()
    assert_accessible(page, "narration-job")

    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + bytes(UPLOAD_LIMIT))
    page.get_by_label("Media files").set_input_files(str(big))
    page.get_by_role("button", name="Upload and describe").click()
    page.get_by_role("alert").filter(has_text="Too large").wait_for()  # 413, in one line
