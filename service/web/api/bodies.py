"""Request bodies of the JSON API: JSON only, refused cleanly when no decoder should see them."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from service.web.problems import problem


async def json_only(request: Request[Any, Any, Any]) -> None:
    """`before_request` of every route with a JSON body: 415 for anything but JSON; 400 for a
    body that is not JSON at all.

    Litestar answers malformed JSON with 400 itself, but not invalid UTF-8 or nesting deep
    enough to exhaust the decoder's recursion limit (a 500): those are refused here first.
    """
    await _json_body(request, ("application/json",))


async def fhir_json_only(request: Request[Any, Any, Any]) -> None:
    """`json_only` for a FHIR resource: `application/fhir+json`, or plain `application/json`."""
    await _json_body(request, ("application/fhir+json", "application/json"))


async def _json_body(request: Request[Any, Any, Any], accepted: tuple[str, ...]) -> None:
    media_type, _ = request.content_type
    if media_type not in accepted:
        raise problem(HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"Send the body as {accepted[0]}.")
    try:
        msgspec.json.decode(await request.body())
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise problem(HTTP_400_BAD_REQUEST, "The body is not valid JSON.") from None
