"""The only way WeasyPrint may load anything: the PDF's own font files, by a private scheme.

The second wall, behind escaping: whatever a patient types, no URL is fetched and no file read.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from weasyprint.urls import URLFetcher, URLFetcherResponse

SCHEME = "summary-asset"
# Only fonts: the stylesheet and the template are read by the renderer itself, never fetched.
FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf"}
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class RefusedAssetError(ValueError):
    """A URL the summary renderer will not load."""


def asset_url(relative: str) -> str:
    """The URL of a file under the assets folder, as the stylesheet writes it."""
    return f"{SCHEME}:{relative}"


class SummaryAssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
    """Serves files under one folder, by `summary-asset:relative/path`; refuses everything else
    (http, https, ftp, file, data, relative paths), and a refusal stops the render rather than
    printing a quietly incomplete summary."""

    def __init__(self, directory: Path) -> None:
        # fail_on_errors: a refused or missing asset aborts the render (FatalURLFetchingError).
        super().__init__(fail_on_errors=True, allowed_protocols=(SCHEME,))
        self.directory = directory.resolve()

    def path_of(self, url: str) -> Path:
        """The file `url` names, or `RefusedAssetError`."""
        scheme, colon, rest = url.partition(":")
        if not colon or scheme.lower() != SCHEME:
            raise RefusedAssetError("only the summary's own assets are loaded")
        parts = PurePosixPath(rest).parts
        # Plain names only: no root, no "..", no hidden files, no query or fragment.
        if not parts or not all(_SEGMENT.match(part) for part in parts):
            raise RefusedAssetError("not an asset path")
        path = self.directory.joinpath(*parts).resolve()
        if not path.is_relative_to(self.directory) or path.suffix.lower() not in FONT_TYPES:
            raise RefusedAssetError("not an asset")
        if not path.is_file():
            raise RefusedAssetError("no such asset")
        return path

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        path = self.path_of(url)
        return URLFetcherResponse(
            url, path.read_bytes(), {"Content-Type": FONT_TYPES[path.suffix.lower()]}
        )

    def open(self, url: object, data: object = None, timeout: object = None) -> URLFetcherResponse:
        # urllib's entry point: without this override it would reach the HTTP handlers.
        raise RefusedAssetError("only the summary's own assets are loaded")

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)
