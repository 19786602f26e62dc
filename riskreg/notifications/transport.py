"""POSTing a signed body to a checked webhook target, connecting to the checked address.

http.client rather than a higher-level client: it follows no redirects (a redirect could
point inside the network), reads no proxy settings from the environment, and lets the
connection go to the address that was checked while TLS still verifies the host name.
"""

import http.client
import socket
import ssl
from dataclasses import dataclass

from riskreg.notifications.addresses import Target

TIMEOUT_SECONDS = 10
# Enough of an answer to show in last_error; the rest is not read.
MAX_ANSWER_BYTES = 2048


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, whatever the host name resolves to now."""

    def __init__(self, target: Target, address: str) -> None:
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self.address = address

    def _open(self) -> socket.socket:
        return socket.create_connection((self.address, self.port), TIMEOUT_SECONDS)

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS; the certificate is verified against the URL's host name."""

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, address: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST body to target at address; network errors propagate as OSError or HTTPException."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, address)
    try:
        # skip_host: http.client would otherwise send the host without brackets or port rules.
        connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        for name, value in {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "User-Agent": "riskreg-webhook/1",
            **headers,
        }.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read(MAX_ANSWER_BYTES).decode("utf-8", "replace")
        return Answer(status=response.status, text=text)
    finally:
        connection.close()
