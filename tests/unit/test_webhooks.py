"""Webhook building blocks without a server: the Standard Webhooks signature (the spec's own test vector),
which URLs are refused (no server-side request forgery), and the retry schedule."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.settings import Settings, WebhookSettings
from agent.webhooks import outbox, signing
from agent.webhooks.target import Refused, allow_list, resolve

VECTOR_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signature_matches_the_standard_webhooks_test_vector():
    key = signing.signing_key(VECTOR_KEY)
    body = b'{"test": 2432232314}'
    sent = signing.headers(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert sent["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.verify(key, sent, body)
    assert not signing.verify(key, sent, body + b" ")  # one stray byte and it no longer verifies
    assert not signing.verify(key, {**sent, "webhook-timestamp": "1614265331"}, body)
    assert not signing.verify(signing.signing_key("whsec_" + "A" * 32), sent, body)


@pytest.mark.parametrize("secret, reason", [("whsec_not base64!", "base64"), ("whsec_YWJj", "3 bytes")])
def test_a_malformed_secret_is_refused_at_start(secret, reason):
    with pytest.raises(ValueError, match=reason):
        WebhookSettings(secret=secret)


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/hook", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("/relative/path", "only http and https"),
    ("http:///no-host", "has no host"),
    ("http://user:pw@8.8.8.8/", "user name or password"),
    ("http://8.8.8.8/a b", "spaces"),
    ("http://8.8.8.8:99999/", "not a valid URL"),
    ("http://8.8.8.8/" + "a" * 2100, "longer than 2048"),
    ("http://127.0.0.1:8080/hook", "non-public"),
    ("http://localhost/hook", "non-public"),
    ("http://[::1]/hook", "non-public"),
    ("http://[::ffff:127.0.0.1]/hook", "non-public"),
    ("http://10.1.2.3/hook", "non-public"),
    ("http://192.168.0.10/hook", "non-public"),
    ("http://169.254.169.254/latest/meta-data/", "non-public"),  # the cloud metadata service
    ("http://100.64.0.1/", "non-public"),
    ("http://0.0.0.0:8000/", "non-public"),
    ("http://224.0.0.1/", "non-public"),
    ("http://[fe80::1]/", "non-public"),
])
def test_unsafe_urls_are_refused_with_the_reason(url, reason):
    with pytest.raises(Refused, match=reason):
        resolve(url, allow_list(""))


def test_a_public_address_is_reached_by_the_address_checked():
    target = resolve("https://8.8.8.8/hooks/storyloom?token=abc", allow_list(""))
    assert (target.scheme, target.host, target.port, target.path, target.address) == \
        ("https", "8.8.8.8", 443, "/hooks/storyloom?token=abc", "8.8.8.8")


def test_listed_hosts_and_networks_are_allowed_and_nothing_else():
    allowed = allow_list("127.0.0.1, 10.0.0.0/8,hooks.internal")
    assert resolve("http://127.0.0.1:9000/", allowed).address == "127.0.0.1"
    assert resolve("http://10.9.8.7/", allowed).address == "10.9.8.7"
    with pytest.raises(Refused):
        resolve("http://192.168.1.1/", allowed)
    with pytest.raises(Refused):
        resolve("http://127.0.0.2/", allowed)
    assert resolve("http://localhost:9000/", allow_list("localhost")).address in ("127.0.0.1", "::1")
    with pytest.raises(ValueError, match="neither a host"):
        allow_list("10.0.0.0/8,not a host!")


def test_retries_back_off_exponentially_with_jitter_and_stop_after_the_window():
    settings = WebhookSettings(backoff_s=5, backoff_max_s=60, max_age_s=3600)
    start = datetime(2026, 12, 1, tzinfo=UTC)

    def delay(attempts, draw):
        due = outbox.retry_at(attempts=attempts, created_at=start, now=start, settings=settings, draw=lambda: draw)
        return (due - start).total_seconds()

    assert [delay(n, 1.0) for n in (1, 2, 3, 4, 5, 6)] == [5, 10, 20, 40, 60, 60]
    assert [delay(n, 0.0) for n in (1, 2, 3)] == [2.5, 5, 10]  # jitter: half to all of the delay
    after = outbox.retry_at(attempts=1, created_at=start, now=start, settings=settings, at_least_s=30, draw=lambda: 1)
    assert (after - start).total_seconds() == 30  # a receiver's Retry-After, capped at backoff_max_s
    capped = outbox.retry_at(attempts=1, created_at=start, now=start, settings=settings, at_least_s=10**6)
    assert (capped - start).total_seconds() == 60
    late = start + timedelta(seconds=3590)
    assert outbox.retry_at(attempts=3, created_at=start, now=late, settings=settings) is None


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STORYLOOM_WEBHOOKS__SECRET", VECTOR_KEY)
    monkeypatch.setenv("STORYLOOM_WEBHOOKS__ALLOW", "127.0.0.1,10.0.0.0/8")
    monkeypatch.setenv("STORYLOOM_WEBHOOKS__BACKOFF_S", "0.5")
    hooks = Settings().webhooks
    assert hooks.secret.get_secret_value() == VECTOR_KEY and VECTOR_KEY not in repr(hooks)
    assert allow_list(hooks.allow).networks == allow_list("127.0.0.1/32,10.0.0.0/8").networks
    assert hooks.backoff_s == 0.5 and hooks.max_age_s == 86400
