"""The certificates the adapter trusts for its outbound TLS (the e-Suite and the smoelenboek).

PodiumD and ICATT tell operators to trust an internal CA by mounting its file as
`/etc/ssl/certs/<name>.crt`; .NET reads every file there. OpenSSL reads that directory only
by hashed file names, and `SSL_CERT_FILE` replaces the public CAs instead of adding to them.
So the context is built here, once at start-up, from four sources, each added to the others:

1. certifi's bundle (the public CAs the adapter has always trusted);
2. the system store (OpenSSL's default paths; `SSL_CERT_FILE` / `SSL_CERT_DIR` still count);
3. every `*.crt` / `*.pem` file directly under `CA_CERTIFICATES_DIR`, any name, PEM (one or
   more certificates) or DER;
4. `EXTRA_CA_CERTS`, one such file.

A file of 3 that cannot be read or holds no valid certificate is skipped and reported (a
system directory may hold other files); a bad `EXTRA_CA_CERTS` is an error: the operator
named that file for this adapter. Problems name the path, never the contents.
Independent of the HTTP library: the result is a plain `ssl.SSLContext`.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import attrs
import certifi

MAX_CA_FILE_BYTES = 4 * 1024 * 1024  # Debian's whole bundle is ~0.2 MiB
MAX_CA_FILES = 2000  # Debian's /etc/ssl/certs holds ~150 such files
CA_SUFFIXES = (".crt", ".pem")


@attrs.frozen
class CaProblem:
    variable: str  # CA_CERTIFICATES_DIR or EXTRA_CA_CERTS
    path: str
    message: str
    fatal: bool


@attrs.frozen
class Trust:
    context: ssl.SSLContext
    problems: tuple[CaProblem, ...]
    loaded_files: int


def ca_files(directory: str) -> list[Path]:
    """The candidate files directly under `directory`, by name; hidden entries (Kubernetes'
    `..data` links of a mounted ConfigMap) are skipped, their files appear by name anyway."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return []
    return [
        Path(entry.path)
        for entry in entries
        if not entry.name.startswith(".") and entry.name.lower().endswith(CA_SUFFIXES)
    ][:MAX_CA_FILES]


def _read_bounded(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_CA_FILE_BYTES + 1)
    if len(data) > MAX_CA_FILE_BYTES:
        raise ValueError(f"larger than {MAX_CA_FILE_BYTES} bytes")
    return data


def _add_file(context: ssl.SSLContext, path: Path) -> str | None:
    """Adds the certificates of one file; the reason when it adds none."""
    try:
        data = _read_bounded(path)
    except IsADirectoryError:
        return "is a directory"
    except OSError as error:
        return f"cannot be read ({error.strerror or type(error).__name__})"
    except ValueError as error:
        return str(error)
    try:
        if b"-----BEGIN" in data:
            context.load_verify_locations(cadata=data.decode("ascii"))
        else:
            context.load_verify_locations(cadata=data)  # DER: one certificate
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        return "holds no valid certificate"
    return None


def trusted_context(ca_dir: str | None, extra_ca_certs: str | None) -> Trust:
    """The client context: certificates and host names always verified (SEC-10)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=certifi.where())
    context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    problems: list[CaProblem] = []
    loaded = 0
    if ca_dir:  # a missing directory adds nothing (config.py warns when it was set explicitly)
        for path in ca_files(ca_dir):
            reason = _add_file(context, path)
            if reason is None:
                loaded += 1
            else:
                problems.append(CaProblem("CA_CERTIFICATES_DIR", str(path), reason, fatal=False))
    if extra_ca_certs:
        reason = _add_file(context, Path(extra_ca_certs))
        if reason is None:
            loaded += 1
        else:
            problems.append(CaProblem("EXTRA_CA_CERTS", extra_ca_certs, reason, fatal=True))
    return Trust(context, tuple(problems), loaded)
