"""The Studio's "keep the characters" control (issue 15): a labelled checkbox in the composer; a turn sent
with it ticked banks the story's characters once the story succeeds; the box is cleared after sending."""
from __future__ import annotations

import pytest

from tests.fixtures.browser import assert_accessible
from tests.fixtures.studio import send_message

LONG = 120_000  # ms: a whole story on a busy 2-core machine


@pytest.mark.slow
def test_a_story_sent_with_keep_ticked_banks_its_characters(studio, browser):
    key = studio.api.key("cast")
    page = studio.page(browser, key)
    keep = page.get_by_role("checkbox", name="Keep this story’s characters for later")
    assert not keep.is_checked()
    keep.check()
    assert_accessible(page, "keep-cast")
    card = send_message(page, "a bedtime story about Mara the otter, one scene")
    card.locator("video").wait_for(timeout=LONG)
    assert not keep.is_checked()  # one turn only
    with studio.client(key) as client:
        banked = client.get("/v1/entities").json()["entities"]
    assert [e["name"] for e in banked] == ["Mara"] and banked[0]["reference_sha256"]
    page.context.close()
