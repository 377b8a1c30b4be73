"""What an origin is (`scheme://host[:port]`), in one place: the settings check `PUBLIC_BASE_URL`
with it at startup, and the same-origin check compares `Origin` headers with it. Plain parsing,
so the settings need not import web code."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """`scheme://host[:port]` as (scheme, host, port), both spellings of a default port alike;
    None for anything else (`null`, a path, a bad port)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path or parts.query or port == 0:
        return None
    if parts.username is not None or parts.fragment:
        return None
    return scheme, parts.hostname, port or _DEFAULT_PORTS[scheme]
