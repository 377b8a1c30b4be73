"""Who the client is and whether it came over HTTPS, believing only the proxies we were told to.

Rate limits count by client address, and HSTS and `Secure` cookies depend on HTTPS. Behind a
reverse proxy both are in `X-Forwarded-For` and `X-Forwarded-Proto`, which any client can also
send. So the headers are read only when the direct peer is in `TRUSTED_PROXIES`, and ignored
otherwise. This wraps the whole app (routing included), so everything inside, Litestar's rate
limiter, the security headers and every handler, sees the decided values in the ASGI scope:

- `scope["client"]`: the right-most `X-Forwarded-For` address that is not itself a trusted
  proxy (each proxy appends the address it saw, so that is the last one a trusted proxy wrote);
  the direct peer when the header is absent, unreadable or not to be believed.
- `scope["scheme"]`: `https` (`wss`) when the connection itself was TLS, when a trusted peer
  says `X-Forwarded-Proto: https`, or always with `BEHIND_HTTPS=true`; `http` (`ws`) otherwise.

On an HTTPS request every `Set-Cookie` the app sends is made `Secure`, whoever set the cookie.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SECURE = {"http": "https", "websocket": "wss"}


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _header_items(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated item of every `name` header, in order."""
    return [
        item.strip()
        for header, value in scope["headers"]
        if header == name
        for item in value.decode("latin-1").split(",")
    ]


def make_cookie_secure(header: bytes) -> bytes:
    attributes = [part.strip().lower() for part in header.split(b";")[1:]]
    return header if b"secure" in attributes else header + b"; Secure"


class ProxiedConnection:
    """Pure ASGI: sets the scope's client and scheme as the module says, then calls the app."""

    def __init__(
        self, app: ASGIApp, trusted_proxies: Sequence[Network], *, behind_https: bool
    ) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)
        self.behind_https = behind_https

    def _trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted_proxies)

    def _forwarded_client(self, scope: Scope) -> str | None:
        for item in reversed(_header_items(scope, b"x-forwarded-for")):
            address = _address(item)
            if address is None:
                return None  # a trusted proxy wrote nothing readable: keep the peer
            if not self._trusted(address):
                return str(address)
        return None

    def _forwarded_https(self, scope: Scope) -> bool:
        protos = _header_items(scope, b"x-forwarded-proto")
        return bool(protos) and protos[-1].lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in _SECURE:
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        secure = scope["scheme"] in {"https", "wss"} or self.behind_https
        if peer is not None and self._trusted(_address(peer[0])):
            if client := self._forwarded_client(scope):
                scope["client"] = (client, 0)
            secure = secure or self._forwarded_https(scope)
        if not secure:
            await self.app(scope, receive, send)
            return
        scope["scheme"] = _SECURE[scope["type"]]

        async def send_secure_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, make_cookie_secure(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", ())
                ]
            await send(message)

        await self.app(scope, receive, send_secure_cookies)
