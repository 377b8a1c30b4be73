"""TRUSTED_PROXIES: whose X-Forwarded-For / X-Forwarded-Proto decide the client and the scheme."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from litestar.types import Message, Scope

from service.web.proxies import ProxiedConnection

PROXY = "10.0.0.5"
TRUSTED = (ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("::1/128"))


async def through(
    peer: str,
    headers: dict[str, str],
    *,
    trusted: tuple[Any, ...] = TRUSTED,
    scheme: str = "http",
    behind_https: bool = False,
    cookie: bytes = b"session=abc; Path=/; HttpOnly",
) -> tuple[Scope, list[Message]]:
    """Send one request through the wrapper; return the scope the app saw and what it sent."""
    seen: dict[str, Scope] = {}
    sent: list[Message] = []

    async def app(scope: Scope, _receive: Any, send: Any) -> None:
        seen["scope"] = scope
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", cookie)]}
        )

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Any = {
        "type": "http",
        "scheme": scheme,
        "client": (peer, 51000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    await ProxiedConnection(app, trusted, behind_https=behind_https)(scope, None, send)  # type: ignore[arg-type]
    return seen["scope"], sent


def set_cookie(sent: list[Message]) -> bytes:
    [(name, value)] = sent[0]["headers"]
    assert name == b"set-cookie"
    return bytes(value)


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("198.51.100.7", "198.51.100.7"),
        # A client's own claim comes first; the trusted proxy appends what it saw.
        ("203.0.113.1, 198.51.100.7", "198.51.100.7"),
        # Proxies in a chain, each trusted, are skipped.
        ("198.51.100.7, 10.0.0.9, 10.0.0.5", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        # Nothing readable from the proxy: the peer stays the client.
        ("anything", PROXY),
        ("", PROXY),
    ],
)
async def test_a_trusted_proxy_names_the_client(forwarded_for: str, client: str) -> None:
    scope, _ = await through(PROXY, {"X-Forwarded-For": forwarded_for})
    assert scope["client"][0] == client


async def test_an_untrusted_peer_chooses_neither_address_nor_scheme() -> None:
    scope, sent = await through(
        "198.51.100.7", {"X-Forwarded-For": "203.0.113.1", "X-Forwarded-Proto": "https"}
    )
    assert scope["client"] == ("198.51.100.7", 51000)
    assert scope["scheme"] == "http"
    assert b"secure" not in set_cookie(sent).lower()


async def test_no_trusted_proxies_by_default_believes_no_one() -> None:
    scope, _ = await through(PROXY, {"X-Forwarded-For": "203.0.113.1"}, trusted=())
    assert scope["client"][0] == PROXY


async def test_https_at_a_trusted_proxy_makes_the_scheme_and_the_cookies_secure() -> None:
    scope, sent = await through(PROXY, {"X-Forwarded-Proto": "https"})
    assert scope["scheme"] == "https"
    assert set_cookie(sent) == b"session=abc; Path=/; HttpOnly; Secure"


async def test_behind_https_forces_https_and_an_already_secure_cookie_is_left_alone() -> None:
    scope, sent = await through(
        "198.51.100.7", {}, behind_https=True, cookie=b"csrftoken=x; Secure; SameSite=Lax"
    )
    assert scope["scheme"] == "https"
    assert set_cookie(sent) == b"csrftoken=x; Secure; SameSite=Lax"


async def test_http_at_a_trusted_proxy_stays_http() -> None:
    scope, sent = await through(PROXY, {"X-Forwarded-Proto": "http"})
    assert scope["scheme"] == "http"
    assert b"secure" not in set_cookie(sent).lower()
