"""The client behind trusted proxies (`LMS_TRUSTED_PROXIES`): headers count only from a trusted
peer, and the client is the rightmost hop that is not a trusted proxy."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.http.proxies import ProxyHeadersMiddleware

TRUSTED = ["10.0.0.0/8", "fd00::/8"]


async def client_of(peer: str, *headers: tuple[str, str], trusted: list[str] = TRUSTED) -> tuple[str, str]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 51000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }
    await ProxyHeadersMiddleware(app, trusted)(scope, None, None)  # type: ignore[arg-type]
    return seen["client"][0], seen["scheme"]


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # An untrusted peer: whatever it claims is ignored.
        ("203.0.113.9", [("X-Forwarded-For", "1.2.3.4")], "203.0.113.9"),
        ("203.0.113.9", [("Forwarded", "for=1.2.3.4")], "203.0.113.9"),
        ("203.0.113.9", [("X-Real-IP", "1.2.3.4")], "203.0.113.9"),
        # A trusted proxy: the rightmost untrusted hop, not a forged leftmost one.
        ("10.0.0.2", [("X-Forwarded-For", "6.6.6.6, 198.51.100.7")], "198.51.100.7"),
        ("10.0.0.2", [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.7, 10.1.2.3")], "198.51.100.7"),
        ("10.0.0.2", [("Forwarded", 'for=6.6.6.6, for="198.51.100.7:4711";proto=https, for=10.9.9.9')], "198.51.100.7"),
        ("10.0.0.2", [("Forwarded", 'for="[2001:db8:cafe::17]:4711"')], "2001:db8:cafe::17"),
        ("fd00::1", [("X-Forwarded-For", "2001:db8::5")], "2001:db8::5"),
        # Forwarded wins over X-Forwarded-For; X-Real-IP only when neither is sent.
        ("10.0.0.2", [("X-Forwarded-For", "6.6.6.6"), ("Forwarded", "for=198.51.100.7")], "198.51.100.7"),
        ("10.0.0.2", [("X-Real-IP", "198.51.100.7")], "198.51.100.7"),
        # Only trusted hops: the leftmost; an unreadable hop stops the walk.
        ("10.0.0.2", [("X-Forwarded-For", "10.0.0.7, 10.0.0.8")], "10.0.0.7"),
        ("10.0.0.2", [("Forwarded", "for=unknown, for=10.0.0.8")], "10.0.0.8"),
        ("10.0.0.2", [("X-Forwarded-For", "not-an-address")], "10.0.0.2"),
        ("10.0.0.2", [], "10.0.0.2"),
    ],
)
async def test_the_client_address(peer: str, headers: list[tuple[str, str]], client: str) -> None:
    assert (await client_of(peer, *headers))[0] == client


async def test_the_scheme_comes_from_a_trusted_proxy_only() -> None:
    assert await client_of("10.0.0.2", ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https")) == (
        "198.51.100.7",
        "https",
    )
    assert (await client_of("10.0.0.2", ("Forwarded", "for=198.51.100.7;proto=https")))[1] == "https"
    assert (await client_of("203.0.113.9", ("X-Forwarded-Proto", "https")))[1] == "http"
    assert (await client_of("10.0.0.2", ("X-Forwarded-Proto", "gopher")))[1] == "http"


async def test_no_trusted_proxies_means_no_header_counts() -> None:
    assert (await client_of("127.0.0.1", ("X-Forwarded-For", "1.2.3.4"), trusted=["192.0.2.0/24"]))[0] == "127.0.0.1"
