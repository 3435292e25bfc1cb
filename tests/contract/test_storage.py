"""The object storage port on every store: the local filesystem, memory, and servers speaking each
cloud's protocol — moto's S3 server mode, Azurite, and gcp-storage-emulator for GCS — put,
streamed get, delete, a missing object, signed URLs and their expiry."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.storage.obstore_storage import ObstoreStorage
from domain.shared.ports import ObjectMissing
from tests.support.gcs import GcsServer
from tests.support.servers import AZURITE_ACCOUNT, AZURITE_KEY, AzuriteServer, ServerMissing, free_port, s3_environment

BUCKET = "lms-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 in server mode, on a port of its own, for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    httpx.put(f"{endpoint}/{BUCKET}").raise_for_status()  # create the bucket
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azure_endpoint() -> Iterator[str]:
    """Azurite's blob service for the whole session, with the test container created."""
    from azure.storage.blob import BlobServiceClient

    try:
        server = AzuriteServer.start()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={server.url}/{AZURITE_ACCOUNT};"
    )
    BlobServiceClient.from_connection_string(connection).create_container(BUCKET)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    server = GcsServer.start(BUCKET)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["local", "memory", "s3", "azure", "gcs"])
def storage(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObstoreStorage:
    if request.param == "local":
        return ObstoreStorage(f"file://{tmp_path / 'objects'}")
    if request.param == "memory":
        return ObstoreStorage("memory://")
    if request.param == "azure":
        return azure_store(request, monkeypatch)
    if request.param == "gcs":
        return gcs_store(request, tmp_path, monkeypatch)
    # Configured as an operator would: the provider's standard environment, the URL alone.
    for name, value in s3_environment(request.getfixturevalue("s3_endpoint")).items():
        monkeypatch.setenv(name, value)
    return ObstoreStorage(f"s3://{BUCKET}/prefix-{os.urandom(4).hex()}")


def azure_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ObstoreStorage:
    """Azurite, configured through the standard Azure environment (the emulator's account)."""
    for name, value in {
        "AZURE_STORAGE_USE_EMULATOR": "true",
        "AZURITE_BLOB_STORAGE_URL": request.getfixturevalue("azure_endpoint"),
        "AZURE_STORAGE_ACCOUNT_NAME": AZURITE_ACCOUNT,
        "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return ObstoreStorage(f"az://{BUCKET}/prefix-{os.urandom(4).hex()}")


def gcs_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObstoreStorage:
    """The GCS emulator, configured through the standard variable: a service-account key file
    (whose `gcs_base_url` points at the emulator)."""
    server: GcsServer = request.getfixturevalue("gcs_server")
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT", str(server.service_account(tmp_path)))
    return ObstoreStorage(f"gs://{BUCKET}/prefix-{os.urandom(4).hex()}")


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read(storage: ObstoreStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key)])


async def test_put_get_delete(storage: ObstoreStorage) -> None:
    big = os.urandom(9 * 1024 * 1024)  # past the single-request size: a multipart upload
    await storage.put("uploads/a.bin", chunks(big[:3_000_000], big[3_000_000:]), "application/octet-stream")
    assert await read(storage, "uploads/a.bin") == big
    await storage.put("uploads/a.bin", chunks(b"replaced"), "text/plain")
    assert await read(storage, "uploads/a.bin") == b"replaced"
    await storage.delete("uploads/a.bin")
    with pytest.raises(ObjectMissing):
        await storage.open("uploads/a.bin")
    await storage.delete("uploads/a.bin")  # a missing object is not an error
    await storage.ping()


async def test_small_objects_go_in_one_request(storage: ObstoreStorage) -> None:
    await storage.put("small/one.txt", chunks(b"a", b"b", b"c"), "text/plain")
    assert await read(storage, "small/one.txt") == b"abc"


async def test_streamed_reads_come_in_chunks(storage: ObstoreStorage) -> None:
    data = os.urandom(3 * 1024 * 1024)
    await storage.put("big/file.bin", chunks(data), "application/octet-stream")
    parts = [chunk async for chunk in await storage.open("big/file.bin")]
    assert b"".join(parts) == data
    assert len(parts) >= 1


async def test_signed_urls_grant_a_plain_get_for_their_lifetime(storage: ObstoreStorage) -> None:
    await storage.put("signed/doc.pdf", chunks(b"%PDF-1.4 signed"), "application/pdf")
    url = await storage.signed_url("signed/doc.pdf", 900)
    if storage.provider in ("local", "memory"):
        assert url is None  # the API streams these itself
        return
    assert url is not None
    async with httpx.AsyncClient() as client:
        r = await client.get(url)  # no credentials of ours: the signature alone grants it
        assert (r.status_code, r.content) == (200, b"%PDF-1.4 signed")
    query = parse_qs(urlsplit(url).query)
    if storage.provider == "s3":
        assert query["X-Amz-Expires"] == ["900"]  # SigV4: the lifetime is part of what is signed
    elif storage.provider == "gcs":
        assert query["X-Goog-Expires"] == ["900"]  # V4 as well
    else:
        assert "se" in query  # a SAS: its expiry is signed


async def test_a_signed_url_serves_the_stored_type_as_an_attachment(storage: ObstoreStorage) -> None:
    """What a browser following the URL gets: the type the API stored (not the uploader's claim)
    and `attachment`, so nothing renders on the store's own domain."""
    if storage.provider in ("local", "memory"):
        return  # the API streams these itself, with the same headers (tests/http/test_files.py)
    disposition = 'attachment; filename="report.pdf"'
    await storage.put(
        "typed/report.pdf", chunks(b"<html>not a page</html>"), "application/pdf", disposition=disposition
    )
    url = await storage.signed_url("typed/report.pdf", 900)
    assert url is not None
    async with httpx.AsyncClient() as client:
        r = await client.get(url)
    assert (r.status_code, r.headers["content-type"], r.headers["content-disposition"]) == (
        200,
        "application/pdf",
        disposition,
    )


async def test_signed_urls_are_refused_once_expired_on_azure(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azurite's clock is its own: the URL lives 3 s (SAS times are whole seconds: 2..3 s left).
    moto's S3 server checks neither signatures nor their expiry unless IAM is set up, and the API
    streams local and memory objects itself."""
    storage = azure_store(request, monkeypatch)
    await storage.put("signed/short.pdf", chunks(b"short-lived"), "application/pdf")
    url = await storage.signed_url("signed/short.pdf", 3)
    assert url is not None
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200
        await asyncio.sleep(4.5)  # past the URL's own lifetime, on the server's clock
        assert (await client.get(url)).status_code == 403


async def test_signed_urls_are_refused_once_expired_on_gcs(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_server: GcsServer
) -> None:
    """The emulator's clock is moved instead of slept through; the path and lifetime are signed."""
    storage = gcs_store(request, tmp_path, monkeypatch)
    await storage.put("signed/short.pdf", chunks(b"short-lived"), "application/pdf")
    url = await storage.signed_url("signed/short.pdf", 900)
    assert url is not None
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200
        assert (await client.get(url.replace("short.pdf", "other.pdf"))).status_code == 403
        try:
            gcs_server.advance(890)  # (seconds pass on a loaded machine between signing and asking)
            assert (await client.get(url)).status_code == 200
            gcs_server.advance(20)  # past the 900 s the URL was signed for
            refused = await client.get(url)
        finally:
            gcs_server.reset_clock()  # the server serves the whole session
    assert (refused.status_code, b"ExpiredToken" in refused.content) == (400, True)
