"""`modelport serve --tls-client-ca`: clients without a certificate signed by that CA are refused at the handshake."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=modelport-test-ca", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, extra in (("server", ["-extfile", "san.ext"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=folder)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "1", *extra, cwd=folder)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command makes the test certificates")
def test_only_clients_with_a_signed_certificate_get_in(home: Path, tmp_path: Path) -> None:
    _certificates(tmp_path)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "modelport.cli", "serve", "--port", str(port), "--no-auth",
             "--tls-cert", str(tmp_path / "server.crt"), "--tls-key", str(tmp_path / "server.key"),
             "--tls-client-ca", str(tmp_path / "ca.crt")], stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        try:
            url = f"https://127.0.0.1:{port}/v2/health/live"
            trust = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
            with_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
            with_cert.load_cert_chain(str(tmp_path / "client.crt"), str(tmp_path / "client.key"))
            signed = httpx.Client(verify=with_cert)
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    answer = signed.get(url)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            assert answer.status_code == 200
            assert "max-age" in answer.headers.get("strict-transport-security", "")
            with pytest.raises(httpx.HTTPError):
                httpx.get(url, verify=trust)  # no client certificate
            signed.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def test_client_ca_without_server_certificate_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from modelport.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--no-auth", "--tls-client-ca", "ca.crt"])
    assert done.value.code == 2 and "--tls-client-ca needs --tls-cert" in capsys.readouterr().err
