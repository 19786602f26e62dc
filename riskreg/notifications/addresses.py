"""Where a webhook may point: http(s) URLs whose host resolves only to public addresses.

A webhook makes riskreg send requests on an admin's behalf; without these rules it could
reach the cloud metadata service, the database or anything else on the internal network
(server-side request forgery). The check runs at registration and again before every
delivery, and the delivery connects to the very address that was checked, so a DNS answer
that changes in between (DNS rebinding) cannot redirect it.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from riskreg.lib.errors import ValidationFailedError
from riskreg.notifications.errors import WebhookAddressRefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to send as Host and path."""

    scheme: str
    host: str  # as written, lower case, brackets removed from an IPv6 literal
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]  # every address the host resolved to, all allowed

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address, judging embedded IPv4 addresses too."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not is_public(embedded):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a webhook URL, or a validation error on `url`."""
    if not (url.isascii() and url.isprintable()) or " " in url:
        # Control characters would split the request line; punycode for international hosts.
        raise ValidationFailedError.for_field(
            "url", "must be printable ASCII without spaces (international hosts in punycode)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailedError.for_field("url", f"is not a valid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValidationFailedError.for_field("url", "must start with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailedError.for_field("url", "must not contain credentials")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationFailedError.for_field("url", "has no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or DEFAULT_PORTS[scheme], path


def resolve(host: str, port: int) -> tuple[str, ...]:
    """The host's addresses (an address literal is its own); empty when it does not resolve."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    # sockaddr[0] is the address; IPv6 ones may carry a %scope, which ip_address accepts.
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def check_addresses(host: str, addresses: tuple[str, ...], *, allow_private: bool) -> None:
    """Refuse unless every address is public (a client may connect to any of them)."""
    if not addresses:
        raise ValidationFailedError.for_field("url", f"the host {host!r} does not resolve")
    if allow_private:
        return
    refused = [a for a in addresses if not is_public(ipaddress.ip_address(a))]
    if refused:
        raise WebhookAddressRefusedError(
            f"url: {host!r} is or resolves to a non-public address; webhooks may only reach "
            "public addresses.",
            extra={"fields": {"url": ["resolves to a non-public address"]}},
        )


def check_url(url: str, *, allow_private: bool) -> Target:
    """Parse, resolve and check a webhook URL; raises a 400 error naming `url`."""
    scheme, host, port, path = parse_url(url)
    addresses = resolve(host, port)
    check_addresses(host, addresses, allow_private=allow_private)
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
