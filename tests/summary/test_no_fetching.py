"""Nothing a patient types can make the renderer fetch a URL or read a file."""

from __future__ import annotations

import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from service.summary import (
    RefusedAssetError,
    Summary,
    SummaryAssetFetcher,
    SummaryRenderer,
    render_summary_pdf,
)
from service.summary._pdf import FONTS
from tests.summary.conftest import pdf_text

Summarize = Callable[..., Awaitable[Summary]]
SECRET = "TOP-SECRET-MARKER-4242"


class Trap:
    """A local HTTP server that counts every request made to it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                trap.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def trap() -> Iterator[Trap]:
    trap = Trap()
    thread = threading.Thread(target=trap.server.serve_forever, daemon=True)
    thread.start()
    yield trap
    trap.server.shutdown()
    trap.server.server_close()


@pytest.fixture
def secret_files(tmp_path: Path) -> dict[str, Path]:
    """A text file and an image, each with content that must never reach a PDF."""
    text = tmp_path / "secret.txt"
    text.write_text(SECRET)
    image = tmp_path / "secret.svg"
    image.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{SECRET}</text></svg>')
    return {"text": text, "image": image}


def hostile_words(url: str, files: dict[str, Path]) -> str:
    image, text = files["image"], files["text"]
    return "\n".join(
        [
            f'<img src="{url}/img.png"> <img src="file://{image}"> <img src="{image}">',
            f'<link rel="stylesheet" href="{url}/style.css">',
            f"<style>@import url({url}/import.css); body {{ background: url({url}/bg.png) }}",
            f'</style><div style="background-image: url(file://{image})">x</div>',
            f'<object data="file://{text}"></object><embed src="{url}/embed">',
            f"url({url}/plain.png) url('file://{text}')",
        ]
    )


async def test_urls_and_markup_in_free_text_fetch_nothing_and_print_literally(
    summarize: Summarize, trap: Trap, secret_files: dict[str, Path], tmp_path: Path
) -> None:
    words = hostile_words(trap.url, secret_files)
    summary = await summarize(
        concern_details=words,
        medicines_list=f'<img src="{trap.url}/medicine.png">',
        takes_medicines=True,
        antidepressant=False,
        symptoms_after_new_medicine=False,
        full_name=f"<img src='{trap.url}/name.png'>",
    )
    pdf = render_summary_pdf(summary)
    # And once through a real worker process, as the server renders.
    async with SummaryRenderer(tmp_path / "cache", workers=1) as renderer:
        assert await renderer.render(summary) == pdf

    assert trap.requests == []
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:  # no image, no form: nothing was drawn from outside
        assert not page["/Resources"]["/XObject"]
        assert not page["/Resources"]["/Pattern"]
    assert not reader.attachments
    text = pdf_text(pdf)
    assert f'<img src="{trap.url}/img.png">' in text
    assert f"<style>@import url({trap.url}/import.css);" in text
    assert f"<img src='{trap.url}/name.png'>" in text
    assert SECRET not in text


def test_the_fetcher_alone_refuses_what_escaping_would_already_stop(
    trap: Trap, secret_files: dict[str, Path]
) -> None:
    """Second wall: even markup that reached WeasyPrint unescaped loads nothing."""
    fetcher = SummaryAssetFetcher(FONTS)
    for markup in [
        f'<img src="{trap.url}/img.png">',
        f'<link rel="stylesheet" href="{trap.url}/style.css">',
        f'<img src="file://{secret_files["image"]}">',
        '<img src="data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22/%3E">',
        '<img src="summary-asset:../summary.css">',
    ]:
        with pytest.raises(FatalURLFetchingError):
            weasyprint.HTML(string=markup, url_fetcher=fetcher).write_pdf()
    assert trap.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x.ttf",
        "https://example.org/NotoSans-Regular.ttf",
        "ftp://example.org/NotoSans-Regular.ttf",
        "file:///etc/passwd",
        f"file://{FONTS}/NotoSans-Regular.ttf",
        "data:font/ttf;base64,AAAA",
        "NotoSans-Regular.ttf",
        "summary-asset:",
        "summary-asset:/etc/passwd",
        "summary-asset:../summary.css",
        "summary-asset:../../../service/settings.py",
        "summary-asset:OFL.txt",
        "summary-asset:.hidden.ttf",
        "summary-asset:NotoSans-Regular.ttf?x=1",
        "summary-asset:missing.ttf",
        "SUMMARY-ASSET:%2e%2e/summary.css",
    ],
)
def test_the_fetcher_serves_only_the_shipped_fonts(url: str) -> None:
    fetcher = SummaryAssetFetcher(FONTS)
    with pytest.raises(RefusedAssetError):
        fetcher(url)


def test_the_fetcher_serves_a_shipped_font() -> None:
    response = SummaryAssetFetcher(FONTS)("summary-asset:NotoSansMalayalam-Regular.ttf")
    assert response.read() == (FONTS / "NotoSansMalayalam-Regular.ttf").read_bytes()
