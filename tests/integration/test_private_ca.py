"""Outbound TLS trusts certifi, the system store, the CA directory and EXTRA_CA_CERTS (issue 16 §3).

A TLS e-Suite stand-in on 127.0.0.1 presents a certificate of a private CA made here.
"""

import asyncio
import contextlib
import ssl
from pathlib import Path

import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from adapter.app import create_app
from adapter.cli import main
from adapter.esuite_client.tls import trusted_context
from adapter.services import services_of
from tests.conftest import ADAPTER, fixture_env, fixture_settings, kiss_headers

pytestmark = pytest.mark.anyio

ZAAKTYPEN = b'{"count":0,"next":null,"previous":null,"results":[]}'


@contextlib.asynccontextmanager
async def tls_esuite(ca: trustme.CA):
    """An e-Suite stand-in answering every request with an empty page, over TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(ZAAKTYPEN)}\r\n\r\n"
            writer.write(head.encode() + ZAAKTYPEN)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the adapter refused the certificate
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()


async def get_zaaktypen(base: str, ca_dir: Path) -> httpx.Response:
    settings = fixture_settings(ESUITE_BASE_URL=base, CA_CERTIFICATES_DIR=str(ca_dir))
    app = create_app(settings)  # the production transport, its context built from the settings
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client:
            return await client.get("/catalogi/api/v1/zaaktypen", headers=kiss_headers())
    finally:
        await services_of(app).esuite.aclose()


def common_names(context: ssl.SSLContext) -> set[str]:
    return {
        value for cert in context.get_ca_certs() for rdn in cert["subject"] for key, value in rdn if key == "commonName"
    }


async def test_private_ca_refused_without_it_and_accepted_as_a_plain_ca_crt(tmp_path):
    ca = trustme.CA()
    empty, mounted = tmp_path / "empty", tmp_path / "certs"
    empty.mkdir()
    mounted.mkdir()
    ca.cert_pem.write_to_path(mounted / "ca.crt")  # as PodiumD mounts it: subPath ca.crt, unhashed
    async with tls_esuite(ca) as (base, seen):
        refused = await get_zaaktypen(base, empty)
        assert refused.status_code == 502
        assert refused.json()["code"] == "upstream-unavailable"
        assert seen == []  # no request crossed the refused handshake
        accepted = await get_zaaktypen(base, mounted)
        assert accepted.status_code == 200
        assert accepted.json() == {"count": 0, "next": None, "previous": None, "results": []}
        assert len(seen) == 1 and seen[0].startswith(b"GET /zgw-apis-provider/ztc/api/v1/zaaktypen ")


async def test_extra_ca_certs_file_is_trusted(tmp_path):
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "internal-ca.pem")
    settings = fixture_settings(
        CA_CERTIFICATES_DIR=str(tmp_path / "missing"), EXTRA_CA_CERTS=str(tmp_path / "internal-ca.pem")
    )
    async with tls_esuite(ca) as (base, _):
        context = trusted_context(settings.ca_certificates_dir, settings.extra_ca_certs).context
        app = create_app(fixture_settings(ESUITE_BASE_URL=base), ssl_context=context)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ADAPTER) as client:
                response = await client.get("/catalogi/api/v1/zaaktypen", headers=kiss_headers())
        finally:
            await services_of(app).esuite.aclose()
    assert response.status_code == 200


def test_public_cas_still_trusted_next_to_the_private_one(tmp_path):
    ca = trustme.CA(organization_name="Gemeente Voorbeeld intern")
    ca.cert_pem.write_to_path(tmp_path / "ca.crt")
    trust = trusted_context(str(tmp_path), None)
    names = common_names(trust.context)
    assert "ISRG Root X1" in names  # Let's Encrypt's root, in certifi's bundle
    assert "DigiCert Global Root G2" in names
    assert len(trust.context.get_ca_certs()) > 100
    assert trust.problems == () and trust.loaded_files == 1
    assert trust.context.verify_mode == ssl.CERT_REQUIRED and trust.context.check_hostname is True
    private = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(serialization.Encoding.DER)
    assert private in trust.context.get_ca_certs(binary_form=True)


def test_every_certificate_of_a_bundle_and_der_files_are_loaded(tmp_path):
    first, second, third = trustme.CA(), trustme.CA(), trustme.CA()
    (tmp_path / "bundle.pem").write_bytes(first.cert_pem.bytes() + b"\n" + second.cert_pem.bytes())
    der = x509.load_pem_x509_certificate(third.cert_pem.bytes()).public_bytes(serialization.Encoding.DER)
    (tmp_path / "der.crt").write_bytes(der)
    (tmp_path / "README.txt").write_text("not a certificate, not a .crt or .pem name: ignored")
    (tmp_path / ".hidden.crt").write_text("hidden entries are skipped")
    trust = trusted_context(str(tmp_path), None)
    assert trust.problems == () and trust.loaded_files == 2
    before = len(trusted_context(None, None).context.get_ca_certs())
    assert len(trust.context.get_ca_certs()) == before + 3


def test_check_config_reports_bad_ca_files_by_path_never_contents(tmp_path, capsys):
    (tmp_path / "ok.crt").write_bytes(trustme.CA().cert_pem.bytes())
    (tmp_path / "broken.crt").write_text(
        "-----BEGIN CERTIFICATE-----\nSECRET-LOOKING-BYTES\n-----END CERTIFICATE-----\n"
    )
    unreadable = tmp_path / "unreadable.pem"
    unreadable.mkdir()  # a directory with a certificate's name: cannot be read as a file
    env = fixture_env(CA_CERTIFICATES_DIR=str(tmp_path))
    assert main(["check-config"], environ=env) == 0  # files in the directory are warnings
    out = capsys.readouterr().out
    assert f"WARNING CA_CERTIFICATES_DIR: {tmp_path / 'broken.crt'} holds no valid certificate" in out
    assert f"WARNING CA_CERTIFICATES_DIR: {unreadable} is a directory" in out
    assert "ok.crt" not in out
    assert "SECRET-LOOKING-BYTES" not in out
    assert out.strip().endswith("configuration valid")


def test_invalid_extra_ca_certs_fails_check_config_and_serve(tmp_path, capsys):
    bad = tmp_path / "extra.pem"
    bad.write_text("no certificate here: hunter2")
    env = fixture_env(EXTRA_CA_CERTS=str(bad))
    assert main(["check-config"], environ=env) == 2
    out = capsys.readouterr().out
    assert f"ERROR EXTRA_CA_CERTS: {bad} holds no valid certificate" in out
    assert "hunter2" not in out
    assert main(["serve", "--port", "0"], environ=env) == 2  # refused before binding anything
    assert f"ERROR EXTRA_CA_CERTS: {bad} holds no valid certificate" in capsys.readouterr().err
    missing = fixture_env(EXTRA_CA_CERTS=str(tmp_path / "absent.pem"))
    assert main(["check-config"], environ=missing) == 2
    assert f"ERROR EXTRA_CA_CERTS: {tmp_path / 'absent.pem'} cannot be read" in capsys.readouterr().out


def test_an_explicit_ca_directory_that_is_missing_is_a_warning(tmp_path, capsys):
    env = fixture_env(CA_CERTIFICATES_DIR=str(tmp_path / "nope"))
    assert main(["check-config"], environ=env) == 0
    assert f"WARNING CA_CERTIFICATES_DIR: {tmp_path / 'nope'} is not a readable directory" in capsys.readouterr().out
