"""Test certificates made with the ``openssl`` command: a private CA and a server signed by it.

A TLS test server needs a certificate a client can be told to trust (``WS_CA_FILE``) and that
the system does not trust (so a run without ``WS_CA_FILE`` must fail verification). :func:`make`
writes, into a folder of the test's own:

- ``ca.pem``: the CA certificate, the bundle to trust;
- ``server.pem`` / ``server.key``: the server's certificate for ``localhost`` and ``127.0.0.1``
  (subjectAltName), signed by that CA, and its key.

EC P-256 keys keep generation under a second. The ``openssl`` CLI is used because the
``cryptography`` package is not among the project's dependencies.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TestCertificates:
    """Paths of a CA bundle and a server certificate and key it signed."""

    __test__ = False  # not a pytest test class

    ca: Path
    cert: Path
    key: Path

    def server_options(self) -> tuple[str, ...]:
        """The ``--tls-cert``/``--tls-key`` options the test servers take."""
        return ("--tls-cert", str(self.cert), "--tls-key", str(self.key))


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make(folder: Path) -> TestCertificates:
    """Write a CA and a server certificate for localhost/127.0.0.1 into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=wsresilience test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
             cwd=folder)
    return TestCertificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
