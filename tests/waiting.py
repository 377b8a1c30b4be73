"""Waiting for something that happens in another process or thread: poll until it holds."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

POLL_SECONDS = 0.05
What = str | Callable[[], str]
"""What is awaited, for the failure: words, or a function saying it at the time of failure."""


async def eventually(check: Callable[[], Any], within: float = 15, what: What = "it") -> Any:
    """Poll `check` (plain or async) until it returns something truthy, and return that; fail
    after `within` seconds, saying `what` (or what it returns then) was awaited."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{_said(what)}: not so after {within} s")
        await asyncio.sleep(POLL_SECONDS)


def eventually_blocking(check: Callable[[], Any], within: float = 15, what: What = "it") -> Any:
    """`eventually` for code outside an event loop (threads, Playwright's sync API)."""
    deadline = time.monotonic() + within
    while True:
        if result := check():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{_said(what)}: not so after {within} s")
        time.sleep(POLL_SECONDS)


def _said(what: What) -> str:
    return what if isinstance(what, str) else what()
