"""The Standard Webhooks signature (https://www.standardwebhooks.com): HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded part of a `whsec_` secret,
sent as `webhook-signature: v1,<base64>`."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional); ValueError when it is not one."""
    text = secret.removeprefix(PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret must be whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"the webhook secret holds {len(key)} bytes; the Standard Webhooks scheme asks for 24 to 64")
    return key


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt: the id stays the same across retries, the timestamp is the attempt's."""
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(key, webhook_id, timestamp, body), "content-type": "application/json"}


def verify(key: bytes, sent: dict[str, str], body: bytes) -> bool:
    """Whether any `v1` signature in the headers matches (constant-time), as a receiver checks it."""
    expected = signature(key, sent.get("webhook-id", ""), int(sent.get("webhook-timestamp", "0")), body)
    return any(hmac.compare_digest(expected, given) for given in sent.get("webhook-signature", "").split())
