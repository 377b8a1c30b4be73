"""Which URLs an admin may register as a webhook receiver."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL = 2000


def check_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host; a ValueError that says why not."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if len(url) > MAX_URL:
        raise ValueError(f"the URL is longer than {MAX_URL} characters")
    if parts.username or parts.password:
        # It would be shown on the admin page and in logs: put credentials in the secret instead.
        raise ValueError("the URL must not carry a user name or password")
    return url
