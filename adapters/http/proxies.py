"""The client's address behind trusted reverse proxies (`LMS_TRUSTED_PROXIES`).

Only when the peer of the connection is a trusted proxy do its forwarding headers count: RFC
7239 `Forwarded` when present, else `X-Forwarded-For` (with `X-Forwarded-Proto` for the scheme),
else `X-Real-IP`. The client is the rightmost hop that is not itself a trusted proxy (every
proxy appends the address it received from, so hops to the left of an untrusted one may be
forged). From any other peer the headers are ignored, so nobody can choose the address their
rate limits are counted under.

granian's proxy-headers wrapper reads `X-Forwarded-For` alone and trusts host names literally;
ingresses speak `Forwarded` too, so the chain is read here, with the same rightmost-untrusted rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from adapters.http.asgi import App, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """An IP address from a hop: bare, `[v6]`, `v4:port`, `[v6]:port`, quoted; None for
    `unknown`, obfuscated identifiers (`_hidden`) and anything else unreadable."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _forwarded(value: str) -> tuple[list[str], str | None]:
    """The `for=` of each element of an RFC 7239 `Forwarded` value, and the last `proto=`."""
    hops: list[str] = []
    proto = None
    for element in value.split(","):
        found = None
        for pair in element.split(";"):
            name, _, raw = pair.partition("=")
            name = name.strip().lower()
            if name == "for":
                found = raw.strip()
            elif name == "proto":
                proto = raw.strip().strip('"').lower()
        hops.append(found or "unknown")
    return hops, proto


class ProxyHeadersMiddleware:
    def __init__(self, app: App, trusted: Sequence[str]) -> None:
        self.app = app
        self.trusted: tuple[Network, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in trusted)

    def _is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._is_trusted(_address(str(client[0]))):
            self._resolve(scope, client)
        await self.app(scope, receive, send)

    def _resolve(self, scope: Scope, client: Sequence[object]) -> None:
        forwarded: list[str] = []
        xff: list[str] = []
        real_ip = proto = xff_proto = None
        for name, raw in scope["headers"]:
            if name == b"forwarded":
                hops, element_proto = _forwarded(raw.decode("latin-1"))
                forwarded.extend(hops)
                proto = element_proto or proto
            elif name == b"x-forwarded-for":
                xff.extend(raw.decode("latin-1").split(","))
            elif name == b"x-forwarded-proto" and xff_proto is None:
                xff_proto = raw.decode("latin-1").split(",")[-1].strip().lower()
            elif name == b"x-real-ip":
                real_ip = raw.decode("latin-1")
        chain, scheme = (forwarded, proto) if forwarded else (xff, xff_proto)
        if not chain and real_ip is not None:
            chain = [real_ip]
        chosen: Address | None = None
        for hop in reversed(chain):
            address = _address(hop)
            if address is None:
                break  # an unreadable hop: nothing to its left can be trusted, and it names no one
            chosen = address
            if not self._is_trusted(address):
                break
        if chosen is not None:
            scope["client"] = (str(chosen), 0)
        if scheme in ("http", "https"):
            scope["scheme"] = scheme if scope["type"] == "http" else scheme.replace("http", "ws")
