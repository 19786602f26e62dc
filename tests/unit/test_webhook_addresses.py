"""Webhook addresses: only public ones, judged on what the host resolves to; and the
signature a receiver checks."""

import hashlib
import hmac
import json
import socket
from typing import Any

import pytest

from riskreg.lib.errors import ValidationFailedError
from riskreg.notifications import signing
from riskreg.notifications.addresses import check_url, is_public
from riskreg.notifications.errors import WebhookAddressRefusedError

REFUSED_URLS = [
    "http://10.0.0.1/hook",
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "https://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:7f00:1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
    "http://[64:ff9b::a00:1]/hook",  # NAT64 wrapping 10.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://localhost/hook",
    "http://localhost:8000/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_private_loopback_or_special_address_is_refused(url: str) -> None:
    with pytest.raises(WebhookAddressRefusedError) as caught:
        check_url(url, allow_private=False)
    assert caught.value.extra["fields"] == {"url": ["resolves to a non-public address"]}


def test_a_public_address_is_accepted_without_connecting() -> None:
    target = check_url("https://93.184.216.34:8443/hooks/riskreg?team=ai", allow_private=False)
    assert target.addresses == ("93.184.216.34",)
    assert target.path == "/hooks/riskreg?team=ai"
    assert target.host_header == "93.184.216.34:8443"


def test_a_public_ipv6_address_gets_brackets_in_the_host_header() -> None:
    target = check_url("https://[2606:4700:4700::1111]/", allow_private=False)
    assert target.host_header == "[2606:4700:4700::1111]"
    assert target.port == 443


def _resolving_to(*addresses: str) -> Any:
    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return fake


def test_a_host_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("93.184.216.34", "10.1.2.3"))
    with pytest.raises(WebhookAddressRefusedError):
        check_url("https://hooks.example.com/", allow_private=False)


def test_a_host_resolving_to_public_addresses_keeps_them_all_for_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("93.184.216.34", "93.184.216.35"))
    target = check_url("https://hooks.example.com/riskreg", allow_private=False)
    assert target.addresses == ("93.184.216.34", "93.184.216.35")
    assert target.host_header == "hooks.example.com"


def test_a_host_that_does_not_resolve_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(ValidationFailedError, match="does not resolve"):
        check_url("https://nowhere.invalid/", allow_private=False)


def test_allowing_private_addresses_lets_loopback_through_for_tests() -> None:
    target = check_url("http://127.0.0.1:8080/hook", allow_private=True)
    assert target.addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://93.184.216.34/", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://user:pw@93.184.216.34/", "credentials"),
        ("https:///nohost", "no host"),
        ("https://93.184.216.34:99999/", "valid URL"),
        ("https://93.184.216.34/a b", "printable ASCII"),
        ("https://93.184.216.34/\r\nX-Injected: 1", "printable ASCII"),
        ("https://bücher.example/", "punycode"),
        ("93.184.216.34/hook", "https://"),
    ],
)
def test_a_malformed_url_is_a_validation_error_naming_url(url: str, reason: str) -> None:
    with pytest.raises(ValidationFailedError, match=reason) as caught:
        check_url(url, allow_private=False)
    assert "url" in caught.value.extra["fields"]


def test_public_means_globally_routable_unicast() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address("8.8.8.8"))
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    assert not is_public(ipaddress.ip_address("192.0.2.1"))  # documentation range
    assert not is_public(ipaddress.ip_address("::"))


def test_the_signature_verifies_with_hmac_over_timestamp_dot_body() -> None:
    secret = signing.new_secret()
    body = signing.body_bytes({"kind": "risk.proposed", "id": "x", "details": {"b": 1, "a": 2}})
    headers = signing.headers(
        secret=secret, kind="risk.proposed", delivery="d-1", timestamp=1_790_000_000, body=body
    )
    expected = hmac.new(secret.encode(), b"1790000000." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Riskreg-Signature"], f"sha256={expected}")
    assert headers["X-Riskreg-Timestamp"] == "1790000000"
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    assert secret.startswith("whsec_")
