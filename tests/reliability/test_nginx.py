"""The service behind the real nginx (Debian's), with the README's configuration, over TLS.

Clients connect to nginx from 127.0.0.2 and 127.0.0.3 (loopback addresses of their own), nginx
connects to `serve` from 127.0.0.1, the only address in TRUSTED_PROXIES. The rate limit's
buckets show which address the service counted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.settings import ROOT
from tests.patients import intake_body
from tests.server import LiveServer, free_port, live_server

CONFIGURATION = ROOT / "scripts" / "nginx" / "clinic-intake.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


def nginx_configuration(folder: Path, upstream: str, https_port: int) -> Path:
    """The README's server blocks, filled in, inside a main file of the test's own."""
    certificate, key = self_signed_certificate(folder)
    words = {
        "@SERVER_NAME@": "127.0.0.1",
        "@HTTPS_LISTEN@": f"127.0.0.1:{https_port}",
        "@HTTP_LISTEN@": f"127.0.0.1:{free_port()}",
        "@CERTIFICATE@": str(certificate),
        "@CERTIFICATE_KEY@": str(key),
        "@UPSTREAM@": upstream,
    }
    server_blocks = CONFIGURATION.read_text()
    for word, value in words.items():
        server_blocks = server_blocks.replace(word, value)
    assert "@" not in server_blocks.replace("# ", "").split("server {", 1)[1]
    (folder / "clinic-intake.conf").write_text(server_blocks)
    temporary = {
        kind: folder / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    for path in temporary.values():
        path.mkdir()
    main = folder / "nginx.conf"
    main.write_text(
        "\n".join(
            [
                # As root, workers would otherwise run as nobody, locked out of pytest's folders.
                "user root;" if os.geteuid() == 0 else "",
                "worker_processes 1;",
                f"pid {folder / 'nginx.pid'};",
                f"error_log {folder / 'error.log'} info;",
                "events { worker_connections 64; }",
                "http {",
                f"    access_log {folder / 'access.log'};",
                *(f"    {kind}_temp_path {path};" for kind, path in temporary.items()),
                f"    include {folder / 'clinic-intake.conf'};",
                "}",
            ]
        )
    )
    return main


@dataclass
class Nginx:
    base_url: str
    certificate: Path
    access_log: Path

    def client(self, source: str) -> httpx.Client:
        """A client connecting to nginx from `source` (a loopback address of its own)."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        transport = httpx.HTTPTransport(local_address=source, verify=context)
        return httpx.Client(base_url=self.base_url, transport=transport, timeout=30)


@pytest.fixture
def behind_nginx(service_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Nginx, LiveServer]]:
    env = {**service_env, "TRUSTED_PROXIES": "127.0.0.1", "INTAKE_RATE_LIMIT_PER_MINUTE": "2"}
    folder = tmp_path / "nginx"
    folder.mkdir()
    https_port = free_port()
    with live_server(env, tmp_path / "server.log") as server:
        upstream = urlsplit(server.base_url).netloc
        main = nginx_configuration(folder, upstream, https_port)
        nginx = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while nginx.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            assert nginx.poll() is None, (folder / "error.log").read_text()
            yield (
                Nginx(
                    f"https://127.0.0.1:{https_port}", folder / "cert.pem", folder / "access.log"
                ),
                server,
            )
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def test_behind_nginx_hsts_and_secure_cookies_follow_x_forwarded_proto(
    behind_nginx: tuple[Nginx, LiveServer],
) -> None:
    nginx, server = behind_nginx
    with nginx.client("127.0.0.2") as client:
        page = client.get("/staff/login")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=")
    [cookie] = page.headers.get_list("set-cookie")
    assert "secure" in cookie.lower().split("; ")
    # The same service, reached directly over plain HTTP: neither.
    direct = httpx.get(f"{server.base_url}/staff/login", timeout=10)
    assert "strict-transport-security" not in direct.headers
    assert "secure" not in direct.headers["set-cookie"].lower().split("; ")


def test_behind_nginx_the_rate_limit_counts_the_address_nginx_saw(
    behind_nginx: tuple[Nginx, LiveServer],
) -> None:
    nginx, server = behind_nginx

    def submit(client: httpx.Client, **headers: str) -> int:
        return client.post("/api/v1/intakes", json=intake_body(), headers=headers).status_code

    with nginx.client("127.0.0.2") as first, nginx.client("127.0.0.3") as second:
        assert [submit(first) for _ in range(3)] == [201, 201, 429]
        # A forged header reaches nginx and changes nothing: same client, same bucket.
        assert submit(first, **{"X-Forwarded-For": "198.51.100.23"}) == 429
        # Another client behind the same proxy has a bucket of its own.
        assert submit(second) == 201
    # nginx's own address (the direct peer of every proxied request) was never counted.
    direct = httpx.post(f"{server.base_url}/api/v1/intakes", json=intake_body(), timeout=30)
    assert direct.status_code == 201
    assert "127.0.0.2 " in nginx.access_log.read_text()
