"""A self-signed TLS certificate for a ``wss://`` test server, made with the ``openssl`` CLI.

A default client does not trust it (no CA vouches for it): the certificate verification
failure a misconfigured service gives. The ``cryptography`` package is not installed here,
so the certificate comes from ``openssl req -x509``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a self-signed certificate for ``host`` and its key to ``directory``; return
    ``(cert.pem, key.pem)``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("The openssl command is needed to make a test certificate; it is not on PATH.")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key
