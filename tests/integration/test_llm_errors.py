"""What clients see of LLM failures (issue 19): no server address, no server wording; the log has both."""
from __future__ import annotations

import logging

import pytest

from agent.llm import LLMUnavailable, ServerLLM
from agent.settings import LLMSettings


def test_an_unreachable_llm_server_is_named_only_in_the_log(caplog):
    caplog.set_level(logging.WARNING, logger="storyloom.llm")
    llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=2))
    with pytest.raises(LLMUnavailable) as error:
        llm.json([{"role": "user", "content": "hi"}], {"type": "object"})
    assert "127.0.0.1" not in str(error.value) and "server log" in str(error.value)
    assert any("http://127.0.0.1:9/v1" in r.getMessage() for r in caplog.records)
