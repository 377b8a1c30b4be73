"""Which URLs an admin may register as a webhook receiver."""

from __future__ import annotations

from urllib.parse import urlsplit

from service.control_characters import has_control_characters

MAX_URL = 2000
# Plain http only to this machine (a relay or a test receiver): across a network the reference,
# level and times would travel unencrypted.
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def check_url(url: str) -> str:
    """The URL if it is an absolute https URL with a host (http only to this machine); a
    ValueError that says why not."""
    url = url.strip()
    if has_control_characters(url):
        # urlsplit drops tabs and line breaks silently: refused before it sees them.
        raise ValueError(f"the URL must not contain a control character: {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError(f"use https: plain http is only for this machine (127.0.0.1): {url!r}")
    if len(url) > MAX_URL:
        raise ValueError(f"the URL is longer than {MAX_URL} characters")
    if parts.username or parts.password:
        # It would be shown on the admin page and in logs: put credentials in the secret instead.
        raise ValueError("the URL must not carry a user name or password")
    return url
