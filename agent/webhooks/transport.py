"""One bounded HTTP POST to a checked address: the connection goes to the address the target check
vetted (TLS still verifies the host name), the whole attempt is cut off at its deadline, and only the
first MAX_RESPONSE_BYTES of the answer are read."""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from agent.webhooks.target import Target

MAX_RESPONSE_BYTES = 4096
USER_AGENT = "Storyloom-Webhooks/1"


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    """What came back: the status, the start of the body, and a Retry-After in seconds when one was given."""

    status: int
    text: bytes
    retry_after: float | None = None


def post(target: Target, headers: dict[str, str], body: bytes, timeout: float) -> Answer:
    """POST `body`; returns the answer. OSError on any network failure, including the deadline (the socket
    is shut down under a receiver that answers too slowly)."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn, cut = kind(target, timeout), threading.Event()
    timer = threading.Timer(timeout, _cut_off, (conn, cut))
    timer.daemon = True
    timer.start()
    try:
        conn.request("POST", target.path, body=body, headers={**headers, "user-agent": USER_AGENT})
        response = conn.getresponse()
        answer = Answer(response.status, response.read(MAX_RESPONSE_BYTES), _seconds(response.getheader("retry-after")))
    except http.client.HTTPException as exc:  # a malformed answer counts as a failed attempt
        raise OSError(f"bad HTTP answer: {type(exc).__name__}") from None
    finally:
        timer.cancel()
        conn.close()
    if cut.is_set():  # what was read before the cut may parse as a whole answer: it is not one
        raise TimeoutError(f"no complete answer within {timeout:g} s")
    return answer


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is ignored: the backoff applies)."""
    return float(value) if value and value.strip().isdigit() and len(value.strip()) < 10 else None


def _cut_off(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    cut.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
