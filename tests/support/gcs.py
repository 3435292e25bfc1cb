"""A GCS-compatible server for the storage contract tests: gcp-storage-emulator (from PyPI), with
the parts of the XML API that the GCS client library speaks and the emulator does not.

The emulator implements the JSON API and, of the XML API, a plain GET and PUT (without the `ETag`
and `Last-Modified` headers real ones answer with). The store's client also uses the XML API for DELETE and for
multipart uploads (POST `?uploads`, PUT `?partNumber&uploadId`, POST `?uploadId`, DELETE
`?uploadId`). Those routes are added here on top of the emulator's own storage, answering as GCS
documents them, so the adapter is exercised over HTTP end to end. An object's `Content-Disposition`
(which the emulator drops) is kept and answered on GET, as GCS does. Signed (V4) download URLs
are checked as GCS checks them: the RSA signature over the canonical request, and the expiry.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

from tests.support.servers import free_port

GCS_HOST = "storage.googleapis.com"
XML_NS = "http://doc.s3.amazonaws.com/2006-03-01"
Handler = Callable[[Any, Any, Any], None]
_ORIGINAL_ROUTES: dict[str, tuple[Any, ...]] = {}


@dataclass
class _Signing:
    """What GCS checks of a V4-signed URL: the RSA signature over the canonical request, made with
    the service account's key, and its lifetime on the server's clock (which tests move)."""

    public_key: Any
    offset: float = 0.0

    def refusal(self, request: Any, query: dict[str, list[str]]) -> tuple[HTTPStatus, str] | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signed_at = datetime.strptime(query["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if time.time() + self.offset > signed_at.timestamp() + int(query["X-Goog-Expires"][0]):
            return HTTPStatus.BAD_REQUEST, "ExpiredToken"
        canonical_query = "&".join(
            f"{quote(name, safe='-_.~')}={quote(values[0], safe='-_.~')}"
            for name, values in sorted(query.items())
            if name != "X-Goog-Signature"
        )
        headers = query["X-Goog-SignedHeaders"][0]
        canonical = "\n".join(
            [
                request.method,
                urlsplit(request.full_url).path,
                canonical_query,
                "".join(f"{name}:{self._header(request, name)}\n" for name in headers.split(";")),
                headers,
                "UNSIGNED-PAYLOAD",
            ]
        )
        scope = query["X-Goog-Credential"][0].split("/", 1)[1]
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"GOOG4-RSA-SHA256\n{query['X-Goog-Date'][0]}\n{scope}\n{digest}".encode()
        try:
            signature = bytes.fromhex(query["X-Goog-Signature"][0])
            self.public_key.verify(signature, to_sign, padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            return HTTPStatus.FORBIDDEN, "SignatureDoesNotMatch"
        return None

    @staticmethod
    def _header(request: Any, name: str) -> str:
        # The server stands in for storage.googleapis.com, the host a V4 signature names.
        return GCS_HOST if name == "host" else str(request.get_header(name, "")).strip()


@dataclass
class _Uploads:
    """Multipart uploads in progress: upload id → part number → bytes."""

    parts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    dispositions: dict[str, str | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def _xml(response: Any, root: str, **children: str) -> None:
    element = ElementTree.Element(root, xmlns=XML_NS)
    for name, text in children.items():
        ElementTree.SubElement(element, name).text = text
    response.write_file(ElementTree.tostring(element, xml_declaration=True, encoding="utf-8"), "application/xml")


def _query(request: Any) -> dict[str, list[str]]:
    """The query with its blank values (`?uploads=`), which the emulator's own parsing drops."""
    return parse_qs(urlsplit(request.full_url).query, keep_blank_values=True)


def _xml_routes(objects: Any, uploads: _Uploads, signing: _Signing) -> tuple[Handler, Handler, Handler, Handler]:
    """GET, PUT, POST and DELETE on `/<bucket>/<object>` as the XML API answers them."""

    def store(request: Any, response: Any, storage: Any, data: bytes, disposition: str | None) -> None:
        request._data = data  # the emulator's own XML upload keeps bytes and metadata
        objects.xml_upload(request, response, storage)
        if response.status == HTTPStatus.OK:
            response["ETag"] = _etag(data)
            if disposition:  # kept as GCS keeps it (the emulator drops it), and answered on GET
                bucket, name = request.params["bucket_name"], request.params["object_id"]
                meta = storage.get_file_obj(bucket, name)
                storage.patch_object(bucket, name, {**meta, "contentDisposition": disposition})

    def put(request: Any, response: Any, storage: Any) -> None:
        query = request.query
        if "uploadId" in query:
            data = request.data
            with uploads.lock:
                parts = uploads.parts.get(query["uploadId"][0])
                if parts is None:
                    response.status = HTTPStatus.NOT_FOUND
                    return
                parts[int(query["partNumber"][0])] = data
            response["ETag"] = _etag(data)
            return
        store(request, response, storage, request.data, request.get_header("Content-Disposition", None))

    def post(request: Any, response: Any, storage: Any) -> None:
        query, bucket, name = _query(request), request.params["bucket_name"], request.params["object_id"]
        if "uploads" in query:
            upload_id = uuid.uuid4().hex
            with uploads.lock:
                uploads.parts[upload_id] = {}
                uploads.dispositions[upload_id] = request.get_header("Content-Disposition", None)
            _xml(response, "InitiateMultipartUploadResult", Bucket=bucket, Key=name, UploadId=upload_id)
            return
        if "uploadId" not in query:
            response.status = HTTPStatus.NOT_IMPLEMENTED
            return
        listed = ElementTree.fromstring(request.data or b"<CompleteMultipartUpload/>")  # noqa: S314 (the test client)
        numbers = [int(part.findtext("{*}PartNumber") or part.findtext("PartNumber") or 0) for part in listed]
        with uploads.lock:
            parts = uploads.parts.pop(query["uploadId"][0], None)
            disposition = uploads.dispositions.pop(query["uploadId"][0], None)
        if parts is None or any(number not in parts for number in numbers):
            response.status = HTTPStatus.BAD_REQUEST
            return
        data = b"".join(parts[number] for number in numbers)
        store(request, response, storage, data, disposition)
        if response.status == HTTPStatus.OK:
            etag = response["ETag"]
            _xml(response, "CompleteMultipartUploadResult", Bucket=bucket, Key=name, ETag=etag)

    def delete(request: Any, response: Any, storage: Any) -> None:
        if "uploadId" in request.query:
            with uploads.lock:
                uploads.parts.pop(request.query["uploadId"][0], None)
            response.status = HTTPStatus.NO_CONTENT
            return
        objects.delete(request, response, storage)
        if response.status == HTTPStatus.OK:
            response.status = HTTPStatus.NO_CONTENT

    def get(request: Any, response: Any, storage: Any) -> None:
        query = _query(request)
        if "X-Goog-Signature" in query:
            refusal = signing.refusal(request, query)
            if refusal is not None:
                response.status = refusal[0]
                _xml(response, "Error", Code=refusal[1])
                return
        objects.download(request, response, storage)
        if response.status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
            meta = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
            updated = datetime.fromisoformat(meta["updated"].replace("Z", "+00:00"))
            response["Last-Modified"] = format_datetime(updated.astimezone(UTC), usegmt=True)
            response["ETag"] = f'"{meta["md5Hash"]}"'
            if meta.get("contentDisposition"):
                response["Content-Disposition"] = meta["contentDisposition"]

    return get, put, post, delete


def _list_bucket(request: Any, response: Any, storage: Any) -> None:
    """GET `/<bucket>?list-type=2`: ListObjectsV2 in XML, one page (the tests keep few objects)."""
    query = _query(request)
    prefix, delimiter = query.get("prefix", [""])[0], query.get("delimiter", [None])[0]
    try:
        files, prefixes = storage.get_file_list(request.params["bucket_name"], prefix or None, delimiter, None)
    except Exception:
        response.status = HTTPStatus.NOT_FOUND
        return
    result = ElementTree.Element("ListBucketResult", xmlns=XML_NS)
    for name, text in {"Name": request.params["bucket_name"], "Prefix": prefix, "IsTruncated": "false"}.items():
        ElementTree.SubElement(result, name).text = text
    for item in files:
        contents = ElementTree.SubElement(result, "Contents")
        for name, text in {"Key": item["name"], "Size": str(item["size"]), "LastModified": item["updated"]}.items():
            ElementTree.SubElement(contents, name).text = text
        ElementTree.SubElement(contents, "ETag").text = f'"{item["md5Hash"]}"'
    for common in prefixes:
        ElementTree.SubElement(ElementTree.SubElement(result, "CommonPrefixes"), "Prefix").text = common
    response.write_file(ElementTree.tostring(result, xml_declaration=True, encoding="utf-8"), "application/xml")


@dataclass
class GcsServer:
    """The emulator on a port of its own, in memory, with one bucket, and the service account
    whose key signs (and verifies) its download URLs."""

    url: str
    bucket: str
    _server: Any
    _key: Any
    _signing: _Signing

    @classmethod
    def start(cls, bucket: str) -> GcsServer:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from gcp_storage_emulator import server as emulator
        from gcp_storage_emulator.handlers import objects

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signing = _Signing(key.public_key())
        get, put, post, delete = _xml_routes(objects, _Uploads(), signing)
        # The client percent-encodes the bucket and object names; the emulator's last route (the
        # XML object path) only matches them unencoded. Its match groups are decoded already.
        xml_object = r"^/(?P<bucket_name>[-.\w%]+)/(?P<object_id>.*[^/]+)$"
        xml_bucket = r"^/(?P<bucket_name>[-.\w%]+)/?$"
        original = _ORIGINAL_ROUTES.setdefault("routes", emulator.HANDLERS)  # once per process
        emulator.HANDLERS = (
            *original[:-1],
            (xml_object, {"GET": get, "PUT": put, "POST": post, "DELETE": delete}),
            (xml_bucket, {"GET": _list_bucket}),
        )
        port = free_port()
        server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
        server.start()
        return cls(url=f"http://127.0.0.1:{port}", bucket=bucket, _server=server, _key=key, _signing=signing)

    def stop(self) -> None:
        self._server.stop()

    def advance(self, seconds: float) -> None:
        """Move the server's clock (signed URLs expire on it) without sleeping."""
        self._signing.offset += seconds

    def reset_clock(self) -> None:
        self._signing.offset = 0.0

    def service_account(self, folder: Path) -> Path:
        """A service-account key file pointing the client at this server. The client signs its own
        bearer tokens (self-signed JWTs) and the download URLs with the key, so nothing ever
        reaches Google's token or IAM services."""
        from cryptography.hazmat.primitives import serialization

        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        path = folder / "gcs-service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": "lms-test@lms-test.iam.gserviceaccount.com",
                    "private_key": pem,
                    "private_key_id": "lms-test",
                    "gcs_base_url": self.url,
                }
            )
        )
        return path
